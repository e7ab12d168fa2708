// conmon's command lines for a container and for an exec session.
import { join } from 'node:path';
import type { StateLayout } from './state-layout.js';

/** Global runtime flags conmon passes through: our --root, and a JSON log to read errors from. */
function runtimeArgs(layout: StateLayout, runtimeLog: string): string[] {
  return ['--runtime-arg', `--root=${layout.runtimeRoot}`, '--runtime-arg', `--log=${runtimeLog}`, '--runtime-arg', '--log-format=json'];
}

export function containerArgs(o: {
  layout: StateLayout; runtimePath: string; id: string; bundle: string; logPath: string; tty: boolean; openStdin: boolean; stdinOnce: boolean;
}): string[] {
  const { layout, id } = o;
  return [
    '--api-version', '1', '-c', id, '-u', id, '-n', id, '-r', o.runtimePath, '-b', o.bundle,
    '-p', layout.containerPid(id), '--conmon-pidfile', layout.conmonPid(id),
    '--exit-dir', layout.exitDir, '--persist-dir', layout.persistDir(id),
    // No log path: the `none` log driver, conmon keeps no log.
    '-l', o.logPath ? `k8s-file:${o.logPath}` : 'none', '--socket-dir-path', layout.socketDir,
    ...runtimeArgs(layout, layout.runtimeLog(id)),
    ...(o.tty ? ['-t'] : []),
    // Without --leave-stdin-open conmon closes the container's stdin when an attached client leaves;
    // a terminal keeps it open whatever StdinOnce says, as dockerd, so one can detach and reattach.
    ...(o.openStdin ? ['-i', ...(o.stdinOnce && !o.tty ? [] : ['--leave-stdin-open'])] : []),
  ];
}

export function execArgs(o: { layout: StateLayout; runtimePath: string; id: string; execId: string; tty: boolean; openStdin: boolean }): string[] {
  const dir = o.layout.exec(o.id, o.execId);
  return [
    '--api-version', '1', '-c', o.id, '-u', o.execId, '-n', o.id, '-r', o.runtimePath, '-b', dir,
    '-p', join(dir, 'pid'), '--conmon-pidfile', join(dir, 'conmon.pid'),
    // Exit files are named after -c (the container): an exec needs its own folder.
    '--exit-dir', join(dir, 'exits'), '-l', `k8s-file:${join(dir, 'log')}`, '--socket-dir-path', o.layout.socketDir,
    '--exec', '--exec-attach', '--exec-process-spec', join(dir, 'process.json'),
    ...runtimeArgs(o.layout, join(dir, 'runtime.log')),
    ...(o.tty ? ['-t'] : []),
    ...(o.openStdin ? ['-i'] : []),
  ];
}
