// The volume-driver conformance suite on the built-in local driver (loaded from its plugin folder
// as a third party's would be) and, when BERTH_VOLUME_DRIVER_DIR names a driver plugin folder, on it.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { volumeDriverConformance } from './helpers/volume-conformance.js';

const DIST = fileURLToPath(new URL('..', import.meta.url));
volumeDriverConformance('local', join(DIST, 'plugins/volume-local'));
const thirdParty = process.env.BERTH_VOLUME_DRIVER_DIR;
if (thirdParty) volumeDriverConformance(`third-party plugin in ${thirdParty}`, thirdParty);
