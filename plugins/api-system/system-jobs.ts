// The jobs behind the system routes: version, info and disk usage, each open to contributions.
import { arch, availableParallelism, hostname, release, totalmem } from 'node:os';
import { BUILD_TIME, type PluginContext } from '../../core/plugin-api.js';
import type { EventsService } from '../events/index.js';
import { MAX_API_VERSION, MIN_API_VERSION } from '../api-server/index.js';
import { hostFacts, openFileCount } from './host-facts.js';
import type { DiskUsage, Info, SystemService, VersionInfo } from './service.js';

/** These jobs take no payload (the engine checks an absent one as {}). */
const noPayload = { type: 'object', additionalProperties: false };

const goArch = (a: string) => ({ x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', s390x: 's390x', ppc64: 'ppc64le' })[a] ?? a;
const unameMachine = (a: string) => ({ x64: 'x86_64', arm64: 'aarch64', ia32: 'i686' })[a] ?? a;

export function registerSystemJobs(ctx: PluginContext, system: SystemService): void {
  const events = ctx.services.get<EventsService>('events');

  ctx.engine.register<void, VersionInfo>('version', {
    description: 'the daemon version (GET /version)',
    schema: noPayload,
    run: () => {
      const details = {
        ApiVersion: MAX_API_VERSION,
        Arch: goArch(arch()),
        BuildTime: BUILD_TIME,
        Experimental: 'false',
        GitCommit: ctx.daemon.commit,
        GoVersion: `node${process.versions.node}`,
        KernelVersion: release(),
        MinAPIVersion: MIN_API_VERSION,
        Os: 'linux',
      };
      return system.hooks.version.promise({
        Platform: { Name: 'Berth' },
        Components: [{ Name: 'Engine', Version: ctx.daemon.version, Details: details }],
        Version: ctx.daemon.version,
        ApiVersion: MAX_API_VERSION,
        MinAPIVersion: MIN_API_VERSION,
        GitCommit: ctx.daemon.commit,
        GoVersion: details.GoVersion,
        Os: 'linux',
        Arch: details.Arch,
        KernelVersion: details.KernelVersion,
        BuildTime: BUILD_TIME,
      });
    },
  });

  ctx.engine.register<void, Info>('info', {
    description: 'system-wide information (GET /info)',
    schema: noPayload,
    run: () => {
      const facts = hostFacts();
      const cg = facts.cgroups;
      const plugins = ctx.daemon.plugins().filter((p) => p.status === 'ok');
      const ofKind = (kind: string) => plugins.filter((p) => p.kind === kind).map((p) => p.name);
      const authz = ofKind('authz');
      return system.hooks.info.promise({
        ID: ctx.daemon.id,
        Containers: 0,
        ContainersRunning: 0,
        ContainersPaused: 0,
        ContainersStopped: 0,
        Images: 0,
        Driver: ofKind('graphdriver')[0] ?? 'none',
        DriverStatus: [],
        Plugins: {
          Volume: ofKind('volume'),
          Network: ofKind('networkdriver'),
          Authorization: authz.length ? authz : null,
          Log: ofKind('log'),
          // Berth's own listing: every loaded plugin, dockerd has no field for this.
          Loaded: plugins.map((p) => ({ Name: p.name, Version: p.version, Kind: p.kind, Provides: p.provides })),
        },
        MemoryLimit: cg.memoryLimit,
        SwapLimit: cg.swapLimit,
        KernelMemory: cg.kernelMemory,
        KernelMemoryTCP: cg.kernelMemoryTCP,
        CpuCfsPeriod: cg.cpuCfsPeriod,
        CpuCfsQuota: cg.cpuCfsQuota,
        CPUShares: cg.cpuShares,
        CPUSet: cg.cpuSet,
        PidsLimit: cg.pidsLimit,
        IPv4Forwarding: facts.ipv4Forwarding,
        BridgeNfIptables: facts.bridgeNfIptables,
        BridgeNfIp6tables: facts.bridgeNfIp6tables,
        Debug: ctx.daemon.debug(),
        NFd: openFileCount(),
        OomKillDisable: cg.oomKillDisable,
        // Node has no goroutines: the closest measure is the event loop's active resources.
        NGoroutines: process.getActiveResourcesInfo().length,
        SystemTime: new Date().toISOString(),
        LoggingDriver: ofKind('log')[0] ?? 'none',
        CgroupDriver: 'cgroupfs',
        CgroupVersion: cg.version,
        NEventsListener: events.bus.listeners,
        KernelVersion: release(),
        OperatingSystem: facts.operatingSystem,
        OSVersion: facts.osVersion,
        OSType: 'linux',
        Architecture: unameMachine(arch()),
        IndexServerAddress: 'https://index.docker.io/v1/',
        RegistryConfig: {
          AllowNondistributableArtifactsCIDRs: [],
          AllowNondistributableArtifactsHostnames: [],
          InsecureRegistryCIDRs: ['127.0.0.0/8'],
          IndexConfigs: { 'docker.io': { Name: 'docker.io', Mirrors: [], Secure: true, Official: true } },
          Mirrors: [],
        },
        NCPU: availableParallelism(),
        MemTotal: totalmem(),
        GenericResources: null,
        DockerRootDir: ctx.daemon.dataRoot,
        HttpProxy: process.env.HTTP_PROXY ?? process.env.http_proxy ?? '',
        HttpsProxy: process.env.HTTPS_PROXY ?? process.env.https_proxy ?? '',
        NoProxy: process.env.NO_PROXY ?? process.env.no_proxy ?? '',
        Name: hostname(),
        Labels: [],
        ExperimentalBuild: false,
        ServerVersion: ctx.daemon.version,
        Runtimes: {},
        DefaultRuntime: ofKind('execdriver')[0] ?? '',
        Swarm: { NodeID: '', NodeAddr: '', LocalNodeState: 'inactive', ControlAvailable: false, Error: '', RemoteManagers: null },
        LiveRestoreEnabled: false,
        Isolation: '',
        InitBinary: '',
        ContainerdCommit: { ID: '', Expected: '' },
        RuncCommit: { ID: '', Expected: '' },
        InitCommit: { ID: '', Expected: '' },
        SecurityOptions: facts.seccomp ? ['name=seccomp,profile=default'] : [],
        Warnings: null,
      });
    },
  });

  ctx.engine.register<void, DiskUsage>('system.df', {
    description: 'disk usage of images, containers, volumes (GET /system/df)',
    schema: noPayload,
    run: () => system.hooks.df.promise({ LayersSize: 0, Images: [], Containers: [], Volumes: [], BuildCache: [] }),
  });
}
