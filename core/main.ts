// berthd's entry point when started as a script (bin/berthd without the start-up snapshot).
import { runMain } from './cli.js';

runMain(process.argv.slice(2));
