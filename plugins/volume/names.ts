// Volume names as dockerd's local driver accepts them: no '/', no '..', at least two characters.
import { invalid } from '../../core/plugin-api.js';

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/** Refuses a name that could not be a folder of the volumes folder (every driver: names are file names here). */
export function checkVolumeName(name: string): string {
  if (name.length === 1 && /[a-zA-Z0-9]/.test(name)) throw invalid('volume name is too short, names should be at least two alphanumeric characters');
  if (!NAME.test(name)) {
    throw invalid(`"${name}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`);
  }
  return name;
}

export const ANONYMOUS_LABEL = 'com.docker.volume.anonymous';
