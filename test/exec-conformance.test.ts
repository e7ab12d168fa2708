// The exec-driver conformance suite on the built-in runc driver (exec-runc), on the example
// third-party driver (test/fixtures/plugins/exec-plain) and, when BERTH_EXEC_DRIVER_DIR names an
// exec-driver plugin folder, on that driver (BERTH_EXEC_DRIVER_NAME picks one of several runtimes).
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execDriverConformance, openExecPlugin } from './helpers/exec-conformance.js';
import { REPO } from './helpers/daemon.js';

const DIST = fileURLToPath(new URL('..', import.meta.url));

// Loaded from their plugin folders exactly as a third party's would be.
execDriverConformance('runc (exec-runc)', openExecPlugin(join(DIST, 'plugins/exec-runc'), 'runc'));
execDriverConformance('plain (test/fixtures/plugins/exec-plain)', openExecPlugin(join(REPO, 'test/fixtures/plugins/exec-plain')));

const thirdParty = process.env.BERTH_EXEC_DRIVER_DIR;
if (thirdParty) execDriverConformance(`third-party plugin in ${thirdParty}`, openExecPlugin(thirdParty, process.env.BERTH_EXEC_DRIVER_NAME || undefined));
