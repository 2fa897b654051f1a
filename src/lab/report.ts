/** Pure: what `hactl lab up` prints about the lab it brought up. */
import type { LabState } from './types.js';

const secs = (msText: string | number | undefined) => `${(Number(msText ?? 0) / 1000).toFixed(1)} s`;

function imageLines(lab: LabState): string[] {
  return Object.entries(lab.images).map(([name, image]) => {
    const m = image.marker;
    const how = image.built ? `built now in ${secs(m.build_ms)}` : `from the cache (built ${m.builtAt})`;
    const versions = [
      m.openssh ? `OpenSSH ${m.openssh}` : '',
      m.keepalived ? `keepalived ${m.keepalived}` : '',
      m.nginx ? `nginx ${m.nginx}` : '',
      m.nginx_binary_version ? `nginx ${m.nginx_binary_version} under /application/nginx` : '',
    ].filter(Boolean);
    return `  image ${name.padEnd(29)} ${how}${versions.length ? `; ${versions.join(', ')}` : ''}`;
  });
}

/** How to reach the HTTPS site with the lab's own CA, once deployed. */
function httpsLine(lab: LabState): string {
  const vip = lab.clusters[0]?.vips[0]?.ip ?? '';
  return `https:     curl --cacert ${lab.files.tls?.ca} --resolve ${lab.serverName}:443:${vip} https://${lab.serverName}${lab.healthPath}`;
}

export function labUpReport(lab: LabState, bin: string): string[] {
  const first = lab.hosts[0];
  const net6 = lab.subnet6 ? ` and ${lab.subnet6} (${lab.bridgeIp6})` : '';
  const lines = [
    `lab ${lab.id} up in ${secs(lab.timings.totalMs)}: ${lab.hosts.length} hosts on ${lab.subnet} (this machine is ${lab.bridgeIp})${net6}`,
  ];
  for (const h of lab.hosts) {
    const addr = h.ip6 ? `${h.ip.padEnd(15)} ${h.ip6.padEnd(18)}` : h.ip.padEnd(15);
    const eth1 = h.private ? `, eth1 ${h.private.ip}` : '';
    lines.push(
      `  ${h.name.padEnd(7)} ${h.role.padEnd(8)} ${addr} ${h.release} (${h.image}) ${h.cluster ?? ''}${eth1}`.trimEnd(),
    );
  }
  for (const c of lab.clusters)
    if (c.privateNet)
      lines.push(
        `  ${c.name.padEnd(7)} private  ${c.privateNet.subnet.padEnd(18)} bridge ${c.privateNet.bridge}: VRRP adverts over eth1, VIPs on eth0`,
      );
  for (const c of lab.clusters)
    for (const v of c.vips)
      lines.push(`  ${v.name.padEnd(7)} vip      ${v.cidr.padEnd(18)} vrid ${v.vrid}, master ${v.master}`);
  lines.push(...imageLines(lab));
  lines.push(
    `inventory: ${lab.files.inventory}`,
    `try:       ssh -i ${lab.files.identity} -o UserKnownHostsFile=${lab.files.knownHosts} -o StrictHostKeyChecking=yes root@${first.ip} hostname`,
    `then:      ${bin} deploy -i ${lab.files.inventory}`,
    ...(lab.files.tls ? [httpsLine(lab)] : []),
    `remove:    ${bin} lab down --dir ${lab.outDir}`,
  );
  return lines;
}
