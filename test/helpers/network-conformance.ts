// The network-driver conformance suite: registers node:test tests that drive a real driver
// through the NetworkDriver contract the way the networks service does (records and IPAM
// addresses made by the service's own code, namespace files as sandboxes make them), on subnets
// of 10.250.x.0/24 and namespaces of the test's own. Built-in drivers run it; point it at your
// own driver plugin with BERTH_NETWORK_DRIVER_DIR (see plugins/network/README.md).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { pino } from 'pino';



import { pluginFs } from '../../core/plugins/tools.js';
import { validate } from '../../core/schema.js';
import { contains, ipToInt, overlaps, parseCidr } from '../../plugins/network/cidr.js';
import { NetworkController, newNetwork } from '../../plugins/network/controller.js';
import { NETWORK_DRIVER_API, type EndpointRecord, type NetworkDriver, type NetworkDriverRegistration, type NetworkRecord, type PortBinding } from '../../plugins/network/driver.js';
import type { NetworksService } from '../../plugins/network/index.js';
import { allocate } from '../../plugins/network/ipam.js';
import { NetnsFiles } from '../../plugins/network/netns.js';
import { NetworkStore } from '../../plugins/network/network-store.js';
import { loadDriverPlugin, type DriverHome } from './driver-plugin.js';
import {
  defaultRoutes, echo, echoServer, hostState, HostWatch, namespaceHolders, nsInterface, nsLinks, parseRule, pings, sh,
} from './network-host.js';

export interface NetworkConformanceOptions {
  /** The driver publishes ports (publish/unpublish); only then are those tests run. */
  publishesPorts?: boolean;
  /** Endpoints of one network reach each other (ping between two namespaces). */
  connectivity?: boolean;
  /** The option that sets the interfaces' MTU: the suite sets it to 1450 and checks the MTU. */
  mtuOption?: string;
  /** Options for the suite's n-th network of a test (a bridge name of the suite's own, say). */
  networkOptions?: (n: number) => Record<string, string>;
  /** Options the driver's optionsSchema must refuse, with the key the error must name. */
  badOptions?: { options: Record<string, string>; key: string }[];
  /** iptables chains the driver writes its rules to (jumps to them from builtin chains allowed);
   * unset: the driver must add no iptables rule at all. */
  iptablesChains?: RegExp;
  /** The optional methods the driver has (default: both); a claimed one that is missing fails. */
  shutdown?: boolean;
  defaultNetwork?: boolean;
}

export interface OpenedNetworkDriver {
  driver: NetworkDriver;
  /** The same plugin loaded again on the same state (a daemon restart after a crash). */
  reopen: () => Promise<NetworkDriver>;
  /** Removes the driver's temporary state and exec folders. */
  cleanup: () => Promise<void>;
}


// ---------------------------------------------------------------------------------------------
// Loading a driver plugin as the daemon would. Kept in this one function: how drivers register
// (ctx.drivers, kind "network", or the older networks.registerDriver) lives here only, through the
// core's own DriverRegistry so that an incompatible `api` is refused as the daemon refuses it.

export async function loadNetworkDriver(dir: string, home: DriverHome, config: Record<string, unknown> = {}): Promise<NetworkDriver> {
  const log = pino({ level: process.env.BERTH_TEST_LOG ?? 'silent' });
  const { registrations } = await loadDriverPlugin<NetworkDriverRegistration>(dir, {
    pluginKind: 'networkdriver', kind: 'network', version: NETWORK_DRIVER_API, service: 'networks',
    onRegister: ({ name, registration }) => assert.equal((registration as Partial<NetworkDriverRegistration>).driver?.name, name, `${dir}: driver.name is the registered name`),
    serviceImpl: (owner): NetworksService => ({
      serviceVersion: '2.0.0',
      registerDriver: (d) => owner.register<NetworkDriverRegistration>('network', { name: d.name, api: d.apiVersion ?? '1.0.0', driver: d }),
      controller: () => new NetworkController(new NetworkStore(join(home.dataRoot, 'plugins', 'network'), pluginFs), log, () => owner.list<NetworkDriverRegistration>('network'), validate),
    }),
  }, { config, home });
  assert.equal(registrations.length, 1, `${dir}: init must register exactly one network driver`);
  return registrations[0].driver;
}

/** An open() for networkDriverConformance: the plugin loaded on fresh temporary state. */
export function openNetworkDriverPlugin(dir: string, config: Record<string, unknown> = {}): () => Promise<OpenedNetworkDriver> {
  return async () => {
    const tmp = await mkdtemp(join(tmpdir(), 'bnc-driver-'));
    const home: DriverHome = { dataRoot: join(tmp, 'data'), execRoot: join(tmp, 'exec'), stateDir: '' };
    const cleanup = () => rm(tmp, { recursive: true, force: true });
    try {
      const manifest = JSON.parse(await readFile(join(dir, 'plugin.json'), 'utf8')) as { name: string };
      home.stateDir = join(home.dataRoot, 'plugins', manifest.name);
      await mkdir(home.stateDir, { recursive: true, mode: 0o700 });
      await mkdir(home.execRoot, { recursive: true, mode: 0o700 });
      const driver = await loadNetworkDriver(dir, home, config);
      return { driver, reopen: () => loadNetworkDriver(dir, home, config), cleanup };
    } catch (err) {
      await cleanup();
      throw err;
    }
  };
}

// ---------------------------------------------------------------------------------------------
// What the networks service hands a driver, made with the service's own code.

/** Every ID the suite makes starts so: names drivers derive from IDs (br-<id12>, veth<id11>) carry it. */
const ID_MARK = 'b0cc5e';
const markedId = () => ID_MARK + randomBytes(29).toString('hex');
const CONTAINER_PORT = 47613;

/** A 10.250.x.0/24 no route, address or other network of the suite uses. */
async function freeSubnet(taken: string[]): Promise<string> {
  const host = (await sh('ip', ['-4', 'route', 'show', 'table', 'all'])) + (await sh('ip', ['-o', '-4', 'addr']));
  const start = randomBytes(1)[0];
  for (let i = 0; i < 256; i++) {
    const x = (start + i) % 256;
    const subnet = `10.250.${x}.0/24`;
    if (!host.includes(`10.250.${x}.`) && !taken.some((t) => overlaps(parseCidr(t), parseCidr(subnet)))) return subnet;
  }
  throw new Error('conformance: no free subnet in 10.250.0.0/16');
}

/** The endpoint as sandboxes make it before join: an IPAM address, the subnet's length, the gateway, a MAC from the address. */
function endpointOn(net: NetworkRecord): EndpointRecord {
  const id = markedId();
  const ip = allocate(net.ipam!, id);
  const mac = `02:42:${ip.split('.').map((b) => Number(b).toString(16).padStart(2, '0')).join(':')}`;
  return { id, networkId: net.Id, containerId: markedId(), aliases: [], ip, prefixLen: Number(net.ipam!.subnet.split('/')[1]), gateway: net.ipam!.gateway, mac };
}

/**
 * One test's world: the driver (its calls watched), the networks, namespaces, endpoints and
 * ports it made, and a cleanup that undoes all of it even when an assertion failed.
 */
class Lab {
  driver!: NetworkDriver;
  private readonly drivers: NetworkDriver[] = [];
  readonly live = new Set<NetworkRecord>();
  private readonly joined = new Map<EndpointRecord, NetworkRecord>();
  private readonly published: { net: NetworkRecord; ep: EndpointRecord; ports: PortBinding[] }[] = [];
  private readonly namespaces = new Set<string>();
  /** The inode of every namespace the test made: none may outlive it. */
  private readonly nsInodes: bigint[] = [];
  private readonly stops: (() => Promise<void>)[] = [];
  private netns!: NetnsFiles;
  private tmp = '';
  private count = 0;

  private constructor(private readonly opened: OpenedNetworkDriver, readonly watch: HostWatch, private readonly opts: NetworkConformanceOptions) {}

  static async open(t: TestContext, open: () => Promise<OpenedNetworkDriver>, opts: NetworkConformanceOptions): Promise<Lab> {
    const watch = new HostWatch(await hostState());
    watch.markers.add(ID_MARK);
    const lab = new Lab(await open(), watch, opts);
    t.after(() => lab.cleanup());
    lab.tmp = await mkdtemp(join(tmpdir(), 'bnc-'));
    lab.netns = new NetnsFiles(join(lab.tmp, 'netns'));
    lab.use(lab.opened.driver);
    // A daemon start: reconcile before any createNetwork (nothing stored yet).
    await lab.driver.reconcile?.([]);
    return lab;
  }

  /** The driver with each call watched, and its new rules checked against the chains it may use. */
  private use(d: NetworkDriver): void {
    this.drivers.push(d);
    const { watch, opts } = this;
    this.driver = new Proxy(d, {
      get(target, key, receiver) {
        const v = Reflect.get(target, key, receiver) as unknown;
        if (typeof v !== 'function') return v;
        return async (...args: unknown[]) => {
          const result = await watch.around(() => (v as (...a: unknown[]) => Promise<unknown>).apply(target, args));
          for (const r of watch.last.rules) {
            const { chain, target: jump } = parseRule(r);
            const own = opts.iptablesChains;
            assert.ok(own && (own.test(chain) || (jump !== undefined && own.test(jump))),
              `driver ${d.name}: ${String(key)} added an iptables rule ${own ? `outside its chains (${own})` : 'but the driver claims none'}: ${r}`);
          }
          return result;
        };
      },
    });
  }

  async reopen(): Promise<NetworkDriver> {
    this.use(await this.opened.reopen());
    return this.driver;
  }

  /** A network record as `docker network create` stores it, with a fresh subnet; realised by the driver. */
  async createNetwork(extra: Record<string, string> = {}): Promise<NetworkRecord> {
    const subnet = await freeSubnet([...this.live].map((n) => n.IPAM.Config[0].Subnet));
    const gateway = subnet.replace(/0\/24$/, '1');
    const options = { ...this.opts.networkOptions?.(this.count) ?? {}, ...extra };
    const net = newNetwork(`bnc-net${this.count++}`, this.driver.name, {
      Id: markedId(), IPAM: { Driver: 'default', Options: {}, Config: [{ Subnet: subnet, Gateway: gateway }] },
      Options: options, ipam: { subnet, gateway, allocated: {} },
    });
    this.watch.markers.add(subnet.replace(/0\/24$/, ''));
    for (const v of Object.values(options)) if (!/^\d*$/.test(v) && v.length >= 3) this.watch.markers.add(v);
    if (this.driver.optionsSchema) assert.deepEqual(validate(this.driver.optionsSchema, options, 'options'), [], `the suite's options for ${this.driver.name}`);
    this.live.add(net);
    await this.driver.createNetwork(net);
    return net;
  }

  async deleteNetwork(net: NetworkRecord): Promise<void> {
    await this.driver.deleteNetwork(net);
    this.live.delete(net);
  }

  async namespace(): Promise<string> {
    const path = await this.netns.create(markedId());
    this.namespaces.add(path);
    this.nsInodes.push((await stat(path, { bigint: true })).ino);
    return path;
  }

  async removeNamespace(path: string): Promise<void> {
    await this.netns.remove(path);
    this.namespaces.delete(path);
  }

  async join(net: NetworkRecord, ns: string, ifName = 'eth0', defaultRoute = true): Promise<EndpointRecord> {
    const ep = endpointOn(net);
    this.joined.set(ep, net);
    await this.driver.join(net, ep, ns, { ifName, defaultRoute });
    return ep;
  }

  async leave(net: NetworkRecord, ep: EndpointRecord): Promise<void> {
    await this.driver.leave(net, ep);
    this.joined.delete(ep);
  }

  async publish(net: NetworkRecord, ep: EndpointRecord, ports: PortBinding[]): Promise<PortBinding[]> {
    const taken = await this.driver.publish(net, ep, ports);
    this.published.push({ net, ep, ports: taken });
    for (const p of taken) this.watch.markers.add(` --dport ${p.hostPort} `);
    return taken;
  }

  async unpublish(net: NetworkRecord, ep: EndpointRecord, ports: PortBinding[]): Promise<void> {
    await this.driver.unpublish(net, ep, ports);
    const i = this.published.findIndex((p) => p.ep === ep);
    if (i >= 0) this.published.splice(i, 1);
  }

  async echoServer(ns: string): Promise<void> {
    this.stops.push((await echoServer(ns, CONTAINER_PORT)).stop);
  }

  /** Nothing the driver made for this test is left on the host, and the test's namespaces, once
   * their files are removed (as the service does after leave), are destroyed: nothing holds them. */
  async assertClean(t: TestContext, when: string): Promise<void> {
    for (const stop of this.stops.splice(0)) await stop();
    for (const ns of [...this.namespaces]) await this.removeNamespace(ns);
    assert.deepEqual(await namespaceHolders(this.nsInodes), [], `namespaces still held ${when}`);
    const left = await this.watch.leftovers();
    if (left.unmarkedLinks.length) t.diagnostic(`links made during driver calls, still there, not recognisably the suite's (a parallel test's?): ${left.unmarkedLinks.join(', ')}`);
    assert.deepEqual(left.links, [], `links left ${when}`);
    assert.deepEqual(left.rules, [], `iptables rules left ${when}`);
  }

  private async cleanup(): Promise<void> {
    const quietly = (p: Promise<unknown> | undefined) => Promise.resolve(p).catch(() => undefined);
    for (const stop of this.stops) await quietly(stop());
    for (const p of this.published) await quietly(this.driver.unpublish(p.net, p.ep, p.ports));
    for (const [ep, net] of this.joined) await quietly(this.driver.leave(net, ep));
    for (const ns of this.namespaces) await quietly(this.netns.remove(ns));
    for (const net of this.live) await quietly(this.driver.deleteNetwork(net));
    // A daemon stop without live-restore, for every instance: proxies closed, chains it owns gone.
    for (const d of this.drivers) await quietly(d.shutdown?.([], false));
    await this.watch.sweep();
    await rm(this.tmp, { recursive: true, force: true });
    await this.opened.cleanup();
  }
}

const portFree = (port: number) => new Promise<boolean>((resolve) => {
  const s = createServer();
  s.once('error', () => resolve(false));
  s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
});

const tcp = (hostPort: number, containerPort = CONTAINER_PORT): PortBinding => ({ proto: 'tcp', containerPort, hostIp: '127.0.0.1', hostPort });

async function assertInterface(ns: string, ifName: string, ep: EndpointRecord, mtu?: number): Promise<void> {
  const itf = await nsInterface(ns, ifName);
  assert.ok(itf, `no ${ifName} inside the namespace`);
  assert.ok(itf.inet.includes(`${ep.ip}/${ep.prefixLen}`), `${ifName} has ${ep.ip}/${ep.prefixLen} (has ${itf.inet.join(', ') || 'no address'})`);
  assert.equal(itf.mac, ep.mac, `${ifName} has the endpoint's MAC`);
  assert.ok(itf.up, `${ifName} is up`);
  if (mtu !== undefined) assert.equal(itf.mtu, mtu, `${ifName} has the network's MTU`);
}

// ---------------------------------------------------------------------------------------------

export function networkDriverConformance(name: string, open: () => Promise<OpenedNetworkDriver>, opts: NetworkConformanceOptions = {}): void {
  const lab = (t: TestContext) => Lab.open(t, open, opts);
  const mtu = opts.mtuOption ? { option: { [opts.mtuOption]: '1450' }, value: 1450 } : { option: {}, value: undefined };

  describe(`network driver conformance: ${name}`, () => {
    test('registration: one driver, accepted by the networks service, with every method of the contract', async (t) => {
      const opened = await open();
      t.after(opened.cleanup);
      const d = opened.driver;
      assert.match(d.name, /^[a-z0-9][a-z0-9_.-]*$/, 'the name users give to docker network create -d');
      for (const m of ['createNetwork', 'deleteNetwork', 'join', 'leave', 'publish', 'unpublish'] as const) assert.equal(typeof d[m], 'function', `${m} is a function`);
      for (const m of ['defaultNetwork', 'reconcile', 'shutdown'] as const) assert.ok(d[m] === undefined || typeof d[m] === 'function', `${m} is absent or a function`);
    });

    test('optionsSchema: no options and the suite\'s options pass; bad options are refused naming the key', async (t) => {
      const { driver } = await lab(t);
      const schema = driver.optionsSchema;
      if (!schema) {
        assert.equal(opts.badOptions?.length ?? 0, 0, 'bad options given for a driver without optionsSchema (it accepts every option)');
        return;
      }
      assert.deepEqual(validate(schema, {}, 'options'), []);
      assert.deepEqual(validate(schema, { ...opts.networkOptions?.(0), ...mtu.option }, 'options'), []);
      for (const bad of opts.badOptions ?? []) {
        const problems = validate(schema, { ...bad.options }, 'options');
        assert.ok(problems.some((p) => p.startsWith(`options.${bad.key}:`)), `${JSON.stringify(bad.options)} is refused naming options.${bad.key} (got ${JSON.stringify(problems)})`);
      }
    });

    test('createNetwork is idempotent (a create, then the daemon\'s restore); deleteNetwork removes all it made', async (t) => {
      const l = await lab(t);
      const net = await l.createNetwork();
      const rules = await l.watch.markedRules();
      await l.driver.createNetwork(net);
      assert.deepEqual(l.watch.last.links, [], 'a second createNetwork makes no link');
      assert.deepEqual(await l.watch.markedRules(), rules, 'a second createNetwork adds no rule, nor the same rule twice');
      await l.deleteNetwork(net);
      await l.assertClean(t, 'after deleteNetwork');
    });

    test('join: ifName inside the namespace with the endpoint\'s address, MAC and MTU, the default route via the gateway; leave removes it', async (t) => {
      const l = await lab(t);
      const net = await l.createNetwork(mtu.option);
      const [ns1, ns2] = [await l.namespace(), await l.namespace()];
      const ep1 = await l.join(net, ns1);
      const ep2 = await l.join(net, ns2);
      assert.notEqual(ep1.ip, ep2.ip);
      for (const [ns, ep] of [[ns1, ep1], [ns2, ep2]] as const) {
        await assertInterface(ns, 'eth0', ep, mtu.value);
        assert.deepEqual((await defaultRoutes(ns)).map((r) => r.split(' ').slice(0, 5).join(' ')), [`default via ${ep.gateway} dev eth0`]);
      }
      await l.leave(net, ep1);
      await l.leave(net, ep2);
      assert.deepEqual(await nsLinks(ns1), [], 'leave removes the interface from the namespace');
      assert.deepEqual(await nsLinks(ns2), []);
      await l.removeNamespace(ns1);
      await l.removeNamespace(ns2);
      await l.deleteNetwork(net);
      await l.assertClean(t, 'after leave and deleteNetwork');
    });

    if (opts.connectivity) test('connectivity: two namespaces on one network reach each other', async (t) => {
      const l = await lab(t);
      const net = await l.createNetwork();
      const [ns1, ns2] = [await l.namespace(), await l.namespace()];
      const ep1 = await l.join(net, ns1);
      const ep2 = await l.join(net, ns2);
      assert.ok(await pings(ns1, ep2.ip!), `${ep1.ip} reaches ${ep2.ip}`);
      assert.ok(await pings(ns2, ep1.ip!), `${ep2.ip} reaches ${ep1.ip}`);
      await l.leave(net, ep2);
      assert.equal(await pings(ns1, ep2.ip!), false, 'a peer that left is no longer reachable');
      await l.leave(net, ep1);
      await l.deleteNetwork(net);
      await l.assertClean(t, 'after leave and deleteNetwork');
    });

    test('a second network in the same namespace: eth1 gets its address and no default route; leaving it keeps eth0', async (t) => {
      const l = await lab(t);
      const net0 = await l.createNetwork();
      const net1 = await l.createNetwork();
      const ns = await l.namespace();
      const ep0 = await l.join(net0, ns, 'eth0', true);
      const ep1 = await l.join(net1, ns, 'eth1', false);
      await assertInterface(ns, 'eth0', ep0);
      await assertInterface(ns, 'eth1', ep1);
      assert.deepEqual((await defaultRoutes(ns)).map((r) => r.split(' ').slice(0, 5).join(' ')), [`default via ${ep0.gateway} dev eth0`], 'one default route, the primary network\'s');
      await l.leave(net1, ep1);
      assert.deepEqual(await nsLinks(ns), ['eth0']);
      await assertInterface(ns, 'eth0', ep0);
      await l.leave(net0, ep0);
      await l.deleteNetwork(net1);
      await l.deleteNetwork(net0);
      await l.assertClean(t, 'after leaving and deleting both networks');
    });

    test('leave after the namespace is gone (the container died first) resolves and leaves nothing', async (t) => {
      const l = await lab(t);
      const net = await l.createNetwork();
      const ns = await l.namespace();
      const ep = await l.join(net, ns);
      await l.removeNamespace(ns);
      await l.leave(net, ep);
      await l.deleteNetwork(net);
      await l.assertClean(t, 'after leave without a namespace');
    });

    if (opts.publishesPorts) test('publish: hostPort 0 takes a free port that reaches the container; unpublish removes exactly what publish added', async (t) => {
      const l = await lab(t);
      const net = await l.createNetwork();
      const ns = await l.namespace();
      const ep = await l.join(net, ns);
      await l.echoServer(ns);
      const networkRules = await l.watch.markedRules();
      const [p, ...more] = await l.publish(net, ep, [tcp(0)]);
      assert.equal(more.length, 0, 'one binding asked, one returned');
      assert.deepEqual({ ...p, hostPort: 0 }, tcp(0), 'returned as asked but for the port taken');
      assert.ok(p.hostPort > 0 && p.hostPort < 65536, `a real host port: ${p.hostPort}`);
      assert.equal(await portFree(p.hostPort), false, 'the host port is held');
      assert.equal(await echo('127.0.0.1', p.hostPort, 'berth conformance\n'), 'berth conformance\n', 'the host port reaches the container port');
      await l.unpublish(net, ep, [p]);
      assert.ok(await portFree(p.hostPort), 'unpublish frees the host port');
      assert.deepEqual(await l.watch.markedRules(), networkRules, 'unpublish removes the port\'s rules and only those');
      await l.leave(net, ep);
      await l.deleteNetwork(net);
      await l.assertClean(t, 'after unpublish, leave and deleteNetwork');
    });

    if (opts.publishesPorts) test('publish: a host port already taken fails with dockerd\'s message and leaves nothing behind', async (t) => {
      const l = await lab(t);
      const net = await l.createNetwork();
      const ns = await l.namespace();
      const ep = await l.join(net, ns);
      const holder: Server = createServer();
      await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
      const taken = (holder.address() as { port: number }).port;
      l.watch.markers.add(` --dport ${taken} `);
      const networkRules = await l.watch.markedRules();
      try {
        await assert.rejects(l.publish(net, ep, [tcp(0), tcp(taken, CONTAINER_PORT + 1)]), new RegExp(`Bind for 127\\.0\\.0\\.1:${taken} failed: port is already allocated`));
        assert.deepEqual(await l.watch.markedRules(), networkRules, 'no rule of the failed publish is left');
      } finally {
        await new Promise((resolve) => holder.close(resolve));
      }
      // Once free, the same port publishes: the failed attempt held nothing.
      const [p] = await l.publish(net, ep, [tcp(taken)]);
      assert.equal(p.hostPort, taken);
      await l.unpublish(net, ep, [p]);
      await l.leave(net, ep);
      await l.deleteNetwork(net);
      await l.assertClean(t, 'after a failed publish');
    });

    test('restart: a new instance reconciles and creates the network again without duplicates; joined endpoints keep their interfaces', async (t) => {
      const l = await lab(t);
      const net = await l.createNetwork();
      const [ns1, ns2] = [await l.namespace(), await l.namespace()];
      const ep1 = await l.join(net, ns1);
      const ep2 = await l.join(net, ns2);
      const rules = await l.watch.markedRules();
      // The daemon died without shutdown; the next one loads the plugin on the same state.
      const next = await l.reopen();
      await next.reconcile?.([net]);
      await next.createNetwork(net);
      assert.deepEqual(l.watch.last.links, [], 'restoring the network makes no second link');
      assert.deepEqual(await l.watch.markedRules(), rules, 'the rules as before: none twice, none lost');
      await assertInterface(ns1, 'eth0', ep1);
      await assertInterface(ns2, 'eth0', ep2);
      if (opts.connectivity) assert.ok(await pings(ns1, ep2.ip!), 'the endpoints still reach each other');
      await l.leave(net, ep1);
      await l.leave(net, ep2);
      await l.deleteNetwork(net);
      await l.assertClean(t, 'after the new instance left and deleted the network');
    });

    if (opts.shutdown !== false) test('shutdown without live-restore removes everything the driver made, after the service released its endpoints', async (t) => {
      const l = await lab(t);
      assert.ok(l.driver.shutdown, 'the driver has no shutdown (say shutdown: false if it has none)');
      const net = await l.createNetwork();
      const ns = await l.namespace();
      const ep = await l.join(net, ns);
      const ports = opts.publishesPorts ? await l.publish(net, ep, [tcp(0)]) : [];
      // What the service does at stop without live-restore: release each sandbox, then the drivers' shutdown.
      if (ports.length) await l.unpublish(net, ep, ports);
      await l.leave(net, ep);
      await l.removeNamespace(ns);
      await l.driver.shutdown([net], false);
      l.live.delete(net);
      await l.assertClean(t, 'after shutdown');
    });

    if (opts.defaultNetwork !== false) test('defaultNetwork describes a network inside its subnet, clear of takenSubnets, with options the schema accepts', async (t) => {
      const l = await lab(t);
      assert.ok(l.driver.defaultNetwork, 'the driver offers no default network (say defaultNetwork: false if it has none)');
      const taken = [await freeSubnet([])];
      const req = await l.driver.defaultNetwork({ takenSubnets: taken });
      if (!req) return;
      assert.ok(req.name, 'the default network has a name');
      const subnet = parseCidr(req.subnet);
      assert.equal(subnet.ip, subnet.base, `${req.subnet} is a network address`);
      assert.ok(contains(subnet, ipToInt(req.gateway)), `gateway ${req.gateway} is inside ${req.subnet}`);
      if (req.ipRange) assert.ok(contains(subnet, parseCidr(req.ipRange).base), `ip range ${req.ipRange} is inside ${req.subnet}`);
      assert.ok(!taken.some((s) => overlaps(parseCidr(s), subnet)), `${req.subnet} overlaps none of ${taken.join(', ')}`);
      if (l.driver.optionsSchema) assert.deepEqual(validate(l.driver.optionsSchema, { ...req.options }, 'options'), []);
      assert.deepEqual(l.watch.last.links, [], 'defaultNetwork only describes: it makes no link');
    });
  });
}
