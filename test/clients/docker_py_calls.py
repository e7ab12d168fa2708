#!/usr/bin/python3
"""What docker-py users do, back to back and without sleeps, against a Berth socket.

Usage: docker_py_calls.py SOCKET SCENARIO [REPEAT]. Prints one JSON object (the observations);
the node test (test/clients-docker-py.test.ts) checks them against dockerd's behaviour. A call
that fails is reported with its exception, never retried.
"""
import io
import json
import sys
import tarfile
import time

import docker

SOCKET, SCENARIO = sys.argv[1], sys.argv[2]
REPEAT = int(sys.argv[3]) if len(sys.argv) > 3 else 1
client = docker.DockerClient(base_url='unix://' + SOCKET, version='auto', timeout=60)


def run_remove():
    """containers.run(remove=True): create, start, wait, logs, remove. dockerd: 50 of 50."""
    failures = []
    outputs = set()
    for i in range(REPEAT):
        try:
            outputs.add(client.containers.run('busybox', ['echo', 'hi'], remove=True).decode())
        except Exception as err:  # noqa: BLE001 - reported to the test, which fails on it
            failures.append('%d: %s' % (i, err))
    left = [c.name for c in client.containers.list(all=True)]
    return {'failures': failures, 'outputs': sorted(outputs), 'left': left}


def detached():
    """A detached run, then wait and logs, as a script supervising a job does."""
    c = client.containers.run('busybox', ['sh', '-c', 'echo out; echo err >&2; exit 3'], detach=True)
    status = c.wait()
    out = {
        'wait': status,
        'stdout': c.logs(stdout=True, stderr=False).decode(),
        'stderr': c.logs(stdout=False, stderr=True).decode(),
    }
    c.reload()
    out['status'] = c.status
    out['exitCode'] = c.attrs['State']['ExitCode']
    c.remove()
    return out


def execs():
    """exec_run with and without a TTY, demultiplexed, streamed and detached."""
    c = client.containers.run('busybox', ['sleep', '60'], detach=True)
    try:
        out = {}
        r = c.exec_run(['sh', '-c', 'echo out; echo err >&2; exit 4'])
        out['plain'] = [r.exit_code, r.output.decode()]
        r = c.exec_run(['sh', '-c', 'echo out; echo err >&2'], demux=True)
        out['demux'] = [r.output[0].decode(), r.output[1].decode()]
        r = c.exec_run(['sh', '-c', 'echo tty'], tty=True)
        out['tty'] = [r.exit_code, r.output.decode('latin1')]
        r = c.exec_run(['sh', '-c', 'echo one; echo two'], tty=True, stream=True)
        out['ttyStream'] = b''.join(r.output).decode('latin1')
        started = time.monotonic()
        r = c.exec_run(['sh', '-c', 'echo $$ > /tmp/detached.pid; exec sleep 30'], detach=True)
        out['detachSeconds'] = time.monotonic() - started
        out['detachOutput'] = r.output.decode() if isinstance(r.output, bytes) else r.output
        # The detached process runs: its pid file appears and names a live process.
        seen = ''
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not seen:
            seen = c.exec_run(['sh', '-c', 'test -s /tmp/detached.pid && kill -0 $(cat /tmp/detached.pid) && echo alive']).output.decode().strip()
        out['detachedAlive'] = seen
        return out
    finally:
        c.remove(force=True)


def kill_inspect():
    """kill then reload at once: dockerd says exited, 137 every time."""
    seen = []
    for _ in range(REPEAT):
        c = client.containers.run('busybox', ['sleep', '60'], detach=True)
        c.kill()
        c.reload()
        seen.append([c.status, c.attrs['State']['ExitCode'], c.attrs['State']['Running']])
        c.remove()
    return {'seen': seen}


def attach():
    """attach(stream=True) to a running container's output, and attach_socket's raw bytes."""
    c = client.containers.run('busybox', ['sh', '-c', 'read line; echo got $line; echo bye >&2'], detach=True, stdin_open=True)
    try:
        sock = c.attach_socket(params={'stdin': 1, 'stdout': 1, 'stderr': 1, 'stream': 1})
        sock._sock.sendall(b'ping\n')
        data = b''
        while True:
            chunk = sock._sock.recv(4096)
            if not chunk:
                break
            data += chunk
        sock.close()
        frames = []
        while len(data) >= 8:
            kind, size = data[0], int.from_bytes(data[4:8], 'big')
            frames.append([kind, data[8:8 + size].decode()])
            data = data[8 + size:]
        return {'frames': frames, 'wait': c.wait()}
    finally:
        c.remove(force=True)


def archives():
    """put_archive then get_archive of the same file."""
    c = client.containers.create('busybox', ['true'])
    try:
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode='w') as tar:
            info = tarfile.TarInfo('hello.txt')
            body = b'hello from docker-py\n'
            info.size = len(body)
            info.mode = 0o640
            tar.addfile(info, io.BytesIO(body))
        put = c.put_archive('/tmp', buf.getvalue())
        stream, stat = c.get_archive('/tmp/hello.txt')
        got = io.BytesIO(b''.join(stream))
        with tarfile.open(fileobj=got) as tar:
            member = tar.getmember('hello.txt')
            content = tar.extractfile(member).read().decode()
        return {'put': put, 'stat': {'name': stat['name'], 'size': stat['size'], 'mode': stat['mode'] & 0o777}, 'content': content, 'memberMode': member.mode}
    finally:
        c.remove()


def images():
    """image save, load and history, as a backup script does."""
    img = client.images.get('busybox:latest')
    data = b''.join(img.save(named=True))
    client.images.get('busybox:latest').tag('busybox', 'copy')
    client.images.remove('busybox:copy')
    loaded = client.images.load(data)
    history = img.history()
    return {
        'saveIsTar': data[257:262] == b'ustar',
        'loaded': [t for i in loaded for t in i.tags],
        'historyCreatedBy': [h.get('CreatedBy', '') for h in history],
        'historyIds': [h['Id'] for h in history],
        'imageId': img.id,
    }


def events():
    """events(decode=True) bounded by until, with a container made and removed meanwhile."""
    since = int(time.time())
    c = client.containers.run('busybox', ['true'], detach=True)
    c.wait()
    c.remove()
    until = int(time.time()) + 1
    seen = [(e.get('Type'), e.get('Action'), e.get('id', '')[:12] == c.id[:12])
            for e in client.events(since=since, until=until, decode=True, filters={'container': c.id})]
    return {'actions': [a for t, a, mine in seen if t == 'container' and mine]}


def prune():
    """containers.prune and images.prune: what was deleted, and the report's shape."""
    kept = client.containers.run('busybox', ['sleep', '60'], detach=True)
    gone = client.containers.run('busybox', ['true'], detach=True)
    gone.wait()
    try:
        pc = client.containers.prune()
        pi = client.images.prune()
        return {
            'deleted': pc.get('ContainersDeleted') or [],
            'gone': gone.id, 'kept': kept.id,
            'reclaimedIsInt': isinstance(pc.get('SpaceReclaimed'), int),
            'imagesReport': sorted(pi.keys()),
        }
    finally:
        kept.remove(force=True)


def networks():
    """Networks as docker-py users make them: IPAM pools (dual-stack too), MAC addresses in the
    endpoint config of create and connect, a name with a space; then everything removed."""
    from docker.types import IPAMConfig, IPAMPool
    out = {}
    v4 = client.networks.create('py net', options={'com.docker.network.bridge.name': 'cn-py1'},
                                ipam=IPAMConfig(pool_configs=[IPAMPool(subnet='10.123.248.0/24', gateway='10.123.248.254')]))
    six = client.networks.create('py6', enable_ipv6=True, options={'com.docker.network.bridge.name': 'cn-py2'},
                                 ipam=IPAMConfig(pool_configs=[IPAMPool(subnet='10.123.249.0/24'), IPAMPool(subnet='fd00:b26::/64')]))
    out['got'] = client.networks.get('py net').name
    out['ipam6'] = six.attrs['IPAM']['Config']
    out['enable_ipv6'] = six.attrs['EnableIPv6']
    # docker-py 5.0.3's EndpointConfig has no mac_address: the endpoint config as a plain dict.
    nc = {'EndpointsConfig': {'py net': {'MacAddress': '02:42:0a:7b:f8:42'}}}
    c = client.api.create_container('busybox', ['sleep', '300'], networking_config=nc,
                                    host_config=client.api.create_host_config(network_mode='py net'))
    client.api.start(c['Id'])
    box = client.containers.get(c['Id'])
    # connect_container_to_network has no mac_address either: the API call it makes, with one.
    res = client.api._post_json(client.api._url('/networks/{0}/connect', six.id),
                                data={'Container': box.id, 'EndpointConfig': {'MacAddress': '02:42:0a:7b:f9:43'}})
    client.api._raise_for_status(res)
    # The container-wide mac_address= of create_container.
    wide = client.api.create_container('busybox', ['cat', '/sys/class/net/eth0/address'], mac_address='02:42:0a:7b:f8:44',
                                       host_config=client.api.create_host_config(network_mode='py net'))
    client.api.start(wide['Id'])
    client.api.wait(wide['Id'])
    out['wide'] = client.api.logs(wide['Id']).decode().strip()
    client.api.remove_container(wide['Id'])
    peer = client.containers.run('busybox', ['sleep', '300'], detach=True, network='py6', name='py6peer')
    out['macs'] = [box.exec_run(['cat', '/sys/class/net/%s/address' % dev]).output.decode().strip() for dev in ('eth0', 'eth1')]
    ping = box.exec_run(['busybox', 'ping', '-6', '-c1', '-W2', 'py6peer'])
    out['ping6'] = [ping.exit_code, ping.output.decode()]
    box.remove(force=True)
    peer.remove(force=True)
    v4.remove()
    six.remove()
    out['left'] = sorted(n.name for n in client.networks.list() if n.name in ('py net', 'py6'))
    return out


def container_options():
    """Run options and container views as docker-py sends them (issue 17, Containers)."""
    out = {}
    r = client.containers.run('busybox', ['sh', '-c', 'id -G; busybox env; ulimit -n'], remove=True,
                              group_add=['4242'], environment=['BERTH_PY_UNSET', 'A=1'],
                              ulimits=[docker.types.Ulimit(name='nofile', soft=1024, hard=2048)]).decode()
    out['groups'] = sorted(r.split('\n')[0].split())
    out['env'] = sorted(line for line in r.split('\n') if line.startswith(('A=', 'BERTH_PY_UNSET')))
    out['nofile'] = r.strip().split('\n')[-1]
    out['hostHostname'] = client.containers.run('busybox', ['cat', '/etc/hostname'], remove=True, network_mode='host').decode().strip()
    out['dns'] = client.containers.run('busybox', ['cat', '/etc/resolv.conf'], remove=True, dns=['127.0.0.53']).decode()
    db = client.containers.run('busybox', ['sleep', '60'], detach=True, name='pydb', environment=['SECRET=s'])
    try:
        env = client.containers.run('busybox', ['busybox', 'env'], remove=True, name='pyweb', links={'pydb': 'db'}).decode()
        out['linkEnv'] = sorted(line for line in env.split('\n') if line.startswith('DB_'))
        db.reload()
        out['hostname'] = [db.attrs['Config']['Hostname'], db.id[:12]]
        out['graphDriverData'] = sorted((db.attrs['GraphDriver'].get('Data') or {}).keys())
        bits, _ = db.get_archive('/etc/hostname')
        with tarfile.open(fileobj=io.BytesIO(b''.join(bits))) as t:
            out['cpHostname'] = t.extractfile('hostname').read().decode()
        db.exec_run(['sh', '-c', 'busybox dd if=/dev/zero of=/f bs=1024 count=64 2>/dev/null'])
        img = db.commit(repository='pycommit', tag='1', message='from docker-py')
        out['comment'] = img.attrs['Comment']
        df = client.df()
        out['dfContainers'] = [c.get('SizeRw', 0) >= 64 * 1024 for c in df['Containers'] if c['Id'] == db.id]
    finally:
        db.remove(force=True)
    gone = client.containers.run('busybox', ['sh', '-c', 'busybox dd if=/dev/zero of=/f bs=1024 count=64 2>/dev/null'], detach=True)
    gone.wait()
    out['reclaimed'] = client.containers.prune().get('SpaceReclaimed', 0)
    return out


print(json.dumps(globals()[SCENARIO]()))
