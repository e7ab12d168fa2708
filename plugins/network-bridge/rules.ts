// The iptables rules of a bridge network and of a published port, as dockerd lays them out,
// in Berth's chains. Pure: the same input gives the same rules, so they can be removed later.
import type { PortBinding } from '../network/index.js';
import type { Rule } from './iptables.js';

export interface NetworkRuleInput { bridge: string; subnet: string; icc: boolean; masq: boolean; internal: boolean }

export function networkRules(n: NetworkRuleInput): Rule[] {
  const f = (chain: string, spec: string): Rule => ({ table: 'filter', chain, spec });
  const br = n.bridge;
  const icc = f('BERTH-FORWARD', `-i ${br} -o ${br} -j ${n.icc ? 'ACCEPT' : 'DROP'}`);
  if (n.internal) {
    // No way in or out: only the containers of this network talk, among themselves.
    return [f('BERTH-ISOLATION-1', `! -s ${n.subnet} -o ${br} -j DROP`), f('BERTH-ISOLATION-1', `! -d ${n.subnet} -i ${br} -j DROP`), icc];
  }
  return [
    ...(n.masq ? [{ table: 'nat' as const, chain: 'BERTH-POSTROUTING', spec: `-s ${n.subnet} ! -o ${br} -j MASQUERADE` }] : []),
    // Isolation: what leaves this bridge for another of Berth's bridges is dropped.
    f('BERTH-ISOLATION-1', `-i ${br} ! -o ${br} -j BERTH-ISOLATION-2`),
    f('BERTH-ISOLATION-2', `-o ${br} -j DROP`),
    f('BERTH-FORWARD', `-o ${br} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`),
    f('BERTH-FORWARD', `-o ${br} -j BERTH`),
    f('BERTH-FORWARD', `-i ${br} ! -o ${br} -j ACCEPT`),
    icc,
  ];
}

/** A published port: DNAT from the host, accepted into the bridge, hairpin masqueraded. */
export function portRules(bridge: string, containerIp: string, b: PortBinding): Rule[] {
  const p = `-p ${b.proto} -m ${b.proto}`;
  const dest = b.hostIp === '0.0.0.0' ? '' : `-d ${b.hostIp}/32 `;
  return [
    { table: 'nat', chain: 'BERTH', spec: `${dest}! -i ${bridge} ${p} --dport ${b.hostPort} -j DNAT --to-destination ${containerIp}:${b.containerPort}` },
    { table: 'filter', chain: 'BERTH', spec: `-d ${containerIp}/32 ! -i ${bridge} -o ${bridge} ${p} --dport ${b.containerPort} -j ACCEPT` },
    { table: 'nat', chain: 'BERTH-POSTROUTING', spec: `-s ${containerIp}/32 -d ${containerIp}/32 ${p} --dport ${b.containerPort} -j MASQUERADE` },
  ];
}
