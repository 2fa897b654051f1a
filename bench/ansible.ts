/** The Ansible side of the benchmark: an inventory for the lab's load balancers. */
import { join } from 'node:path';
import type { LabState } from '../src/lab/types.js';

/** YAML inventory: group `lbs` with each LB's address, the lab key, and its rendered files dir. */
export function ansibleInventory(lab: LabState): string {
  const lbs = lab.hosts.filter((h) => h.role === 'lb');
  const hosts = lbs.map((h) =>
    [
      `        ${h.name}:`,
      `          ansible_host: ${h.ip}`,
      `          rendered: ${join(lab.outDir, 'rendered', h.name)}`,
    ].join('\n'),
  );
  return [
    'all:',
    '  children:',
    '    lbs:',
    '      vars:',
    '        ansible_user: root',
    `        ansible_ssh_private_key_file: ${lab.files.identity}`,
    '        ansible_python_interpreter: /usr/bin/python3',
    '      hosts:',
    ...hosts,
    '',
  ].join('\n');
}
