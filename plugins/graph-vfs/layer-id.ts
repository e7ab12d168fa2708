// Layer ids become folder names: refuse anything that could reach outside the driver's root.
import { invalid } from '../../core/plugin-api.js';

const LAYER_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

export function checkLayerId(driver: string, id: string): void {
  if (!LAYER_ID.test(id)) throw invalid(`graphdriver.${driver}: invalid layer id "${id}": must match ${LAYER_ID.source}`);
}
