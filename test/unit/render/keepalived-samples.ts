/**
 * keepalived's own VRRP sample configurations that concern a front end (doc/samples in
 * acassen/keepalived, read at 9cbce3e2), each as the closest hactl inventory and the VRRP subset
 * the sample's node has, written down here as our own data (the samples are not copied). `lb1`
 * is the sample's node; `lb2` is its peer, which the samples do not show. `leftOut` names what
 * the sample uses and hactl does not express, each with its reason in the README.
 */
import type { VrrpSubset } from '../../helpers/keepalived-conf.js';

export interface Sample {
  /** The file under doc/samples/. */
  file: string;
  /** One cluster (the keys of clusters[0]) without load_balancers, backends and sites, which are common. */
  cluster: Record<string, unknown>;
  expected: VrrpSubset;
  /** global_defs keywords the comparison includes. */
  globals?: string[];
  leftOut: string[];
  /** The nodes' own addresses, when the sample's VIP subnets need others than .2 and .3. */
  nodes?: [string, string];
}

const LBS = [
  { name: 'lb1', address: '192.168.200.2' },
  { name: 'lb2', address: '192.168.200.3' },
];

export function inventoryOf(s: Sample): Record<string, unknown> {
  const firstVip = (s.cluster.vips as { name: string }[])[0].name;
  return {
    clusters: [
      {
        name: 'sample',
        load_balancers: s.nodes ? LBS.map((lb, i) => ({ ...lb, address: s.nodes![i] })) : LBS,
        backends: [{ name: 'web1', address: '192.168.100.21' }],
        sites: [{ name: 'www', server_names: ['www.example.com'], vips: [firstVip], backends: ['web1'] }],
        ...s.cluster,
      },
    ],
  };
}

const v32 = (...last: number[]) => last.map((n) => `192.168.200.${n}/32`);
const addrs = (...last: number[]) => v32(...last).map((address) => ({ address }));
const NO_CHECK = { health_check: { mode: 'none' } };

export const SAMPLES: Sample[] = [
  {
    file: 'keepalived.conf.vrrp',
    cluster: {
      interface: 'eth0',
      ...NO_CHECK,
      keepalived: { garp_master_delay: 10 },
      vips: [
        {
          name: 'VI_1',
          address: '192.168.200.16/32',
          addresses: addrs(17, 18),
          vrid: 51,
          master: 'lb1',
          priorities: { lb1: 100, lb2: 50 },
          auth: { type: 'PASS', pass: '1111' },
        },
        {
          name: 'VI_2',
          address: '192.168.200.13/32',
          addresses: addrs(14, 15),
          vrid: 50,
          master: 'lb2',
          priorities: { lb1: 50, lb2: 100 },
        },
      ],
    },
    globals: ['vrrp_garp_master_delay'],
    expected: {
      instances: [
        {
          name: 'VI_1',
          state: 'MASTER',
          interface: 'eth0',
          vrid: 51,
          priority: 100,
          advert_int: 1,
          auth: 'PASS 1111',
          addresses: v32(16, 17, 18),
        },
        {
          name: 'VI_2',
          state: 'BACKUP',
          interface: 'eth0',
          vrid: 50,
          priority: 50,
          advert_int: 1,
          addresses: v32(13, 14, 15),
        },
      ],
      globals: ['vrrp_garp_master_delay 10'],
    },
    leftOut: ['smtp_alert', 'per-instance garp_master_delay', 'adverts on a second interface', 'one address twice'],
  },
  {
    file: 'keepalived.conf.vrrp.sync',
    cluster: {
      interface: 'eth0',
      ...NO_CHECK,
      vips: [
        { name: 'VI_1', address: '192.168.200.18/25', vrid: 51, master: 'lb1', priorities: { lb1: 100, lb2: 50 } },
        {
          name: 'VI_2',
          address: '192.168.201.18/26',
          dev: 'eth1',
          vrid: 52,
          master: 'lb1',
          priorities: { lb1: 100, lb2: 50 },
        },
        { name: 'VI_3', address: '192.168.200.19/27', vrid: 53, master: 'lb2', priorities: { lb1: 100, lb2: 150 } },
        {
          name: 'VI_4',
          address: '192.168.201.19/28',
          dev: 'eth1',
          vrid: 54,
          master: 'lb2',
          priorities: { lb1: 100, lb2: 150 },
        },
        { name: 'VI_5', address: '192.168.200.20/27', vrid: 55, master: 'lb1', priorities: { lb1: 100, lb2: 50 } },
      ],
      sync_groups: [
        { name: 'G1', vips: ['VI_1', 'VI_2', 'VI_5'] },
        { name: 'G2', vips: ['VI_3', 'VI_4'] },
      ],
    },
    expected: {
      sync_groups: { G1: ['VI_1', 'VI_2', 'VI_5'], G2: ['VI_3', 'VI_4'] },
      instances: [
        {
          name: 'VI_1',
          state: 'MASTER',
          interface: 'eth0',
          vrid: 51,
          priority: 100,
          advert_int: 1,
          addresses: ['192.168.200.18/25'],
        },
        {
          name: 'VI_2',
          state: 'MASTER',
          interface: 'eth0',
          vrid: 52,
          priority: 100,
          advert_int: 1,
          addresses: ['192.168.201.18/26 dev eth1'],
        },
        {
          name: 'VI_3',
          state: 'BACKUP',
          interface: 'eth0',
          vrid: 53,
          priority: 100,
          advert_int: 1,
          addresses: ['192.168.200.19/27'],
        },
        {
          name: 'VI_4',
          state: 'BACKUP',
          interface: 'eth0',
          vrid: 54,
          priority: 100,
          advert_int: 1,
          addresses: ['192.168.201.19/28 dev eth1'],
        },
        {
          name: 'VI_5',
          state: 'MASTER',
          interface: 'eth0',
          vrid: 55,
          priority: 100,
          advert_int: 1,
          addresses: ['192.168.200.20/27'],
        },
      ],
    },
    // VI_6..VI_9 repeat VI_5 with the next VRIDs and addresses: nothing new to express.
    leftOut: ['sync group notify scripts', 'adverts on a second interface'],
  },
  {
    file: 'keepalived.conf.vrrp.scripts',
    nodes: ['192.168.200.98', '192.168.200.99'],
    cluster: {
      interface: 'eth0',
      ...NO_CHECK,
      vips: [
        {
          name: 'VI_1',
          address: '192.168.200.16/32',
          addresses: addrs(17, 18),
          vrid: 51,
          master: 'lb1',
          priorities: { lb1: 100, lb2: 50 },
          auth: { type: 'PASS', pass: '1111' },
          notify: { command: '/usr/local/bin/vrrp.sh' },
        },
        { name: 'VI_2', address: '192.168.200.100/27', vrid: 52, master: 'lb1', priorities: { lb1: 150, lb2: 100 } },
        { name: 'VI_3', address: '192.168.200.101/27', vrid: 53, master: 'lb1', priorities: { lb1: 150, lb2: 100 } },
      ],
      sync_groups: [{ name: 'G1', vips: ['VI_2', 'VI_3'] }],
    },
    expected: {
      sync_groups: { G1: ['VI_2', 'VI_3'] },
      instances: [
        {
          name: 'VI_1',
          state: 'MASTER',
          interface: 'eth0',
          vrid: 51,
          priority: 100,
          advert_int: 1,
          auth: 'PASS 1111',
          addresses: v32(16, 17, 18),
        },
        {
          name: 'VI_2',
          state: 'MASTER',
          interface: 'eth0',
          vrid: 52,
          priority: 150,
          advert_int: 1,
          addresses: ['192.168.200.100/27'],
        },
        {
          name: 'VI_3',
          state: 'MASTER',
          interface: 'eth0',
          vrid: 53,
          priority: 150,
          advert_int: 1,
          addresses: ['192.168.200.101/27'],
        },
      ],
    },
    leftOut: ['smtp_alert', 'notify_master/notify_backup/notify_fault', 'sync group notify scripts'],
  },
  {
    file: 'keepalived.conf.vrrp.localcheck',
    cluster: {
      interface: 'eth0',
      health_check: { mode: 'script', interval: 1, weight: -2 },
      vips: [
        {
          name: 'VI_1',
          address: '192.168.200.18/25',
          vrid: 51,
          master: 'lb1',
          priorities: { lb1: 100, lb2: 99 },
          track_interface: [{ interface: 'eth1', weight: 2 }, { interface: 'eth2', weight: -2 }, { interface: 'eth3' }],
        },
        { name: 'VI_3', address: '192.168.200.19/27', vrid: 53, master: 'lb2', priorities: { lb1: 99, lb2: 100 } },
      ],
    },
    expected: {
      instances: [
        {
          name: 'VI_1',
          state: 'MASTER',
          interface: 'eth0',
          vrid: 51,
          priority: 100,
          advert_int: 1,
          addresses: ['192.168.200.18/25'],
          track_interface: ['eth1 weight 2', 'eth2 weight -2', 'eth3'],
          track_script: ['hactl_check_nginx'],
        },
        {
          name: 'VI_3',
          state: 'BACKUP',
          interface: 'eth0',
          vrid: 53,
          priority: 99,
          advert_int: 1,
          addresses: ['192.168.200.19/27'],
          track_script: ['hactl_check_nginx'],
        },
      ],
    },
    leftOut: ['vrrp_script of your own', 'adverts on a second interface'],
  },
  {
    file: 'keepalived.conf.track_interface',
    cluster: {
      interface: 'eth0.1',
      ...NO_CHECK,
      track_interface: [{ interface: 'eth0' }, { interface: 'eth1' }],
      vips: [
        {
          name: 'VI_1',
          address: '192.168.200.16/32',
          addresses: [
            { address: '192.168.200.17/32', dev: 'eth1' },
            { address: '192.168.200.18/32', dev: 'eth2' },
          ],
          vrid: 51,
          master: 'lb1',
          priorities: { lb1: 100, lb2: 50 },
        },
      ],
    },
    expected: {
      instances: [
        {
          name: 'VI_1',
          state: 'MASTER',
          interface: 'eth0.1',
          vrid: 51,
          priority: 100,
          advert_int: 1,
          addresses: ['192.168.200.16/32', '192.168.200.17/32 dev eth1', '192.168.200.18/32 dev eth2'],
          track_interface: ['eth0', 'eth1'],
        },
      ],
    },
    leftOut: ['static_routes and virtual_routes'],
  },
  {
    file: 'keepalived.conf.sample',
    cluster: {
      interface: 'eth0',
      ...NO_CHECK,
      vips: [
        {
          name: 'VI_1',
          address: '192.168.200.11/32',
          addresses: addrs(12, 13),
          vrid: 50,
          master: 'lb1',
          preempt: false,
          priorities: { lb1: 100, lb2: 50 },
        },
      ],
    },
    expected: {
      instances: [
        {
          name: 'VI_1',
          state: 'BACKUP',
          interface: 'eth0',
          vrid: 50,
          priority: 100,
          advert_int: 1,
          nopreempt: true,
          addresses: v32(11, 12, 13),
        },
      ],
    },
    leftOut: ['notification_email and smtp_server', 'virtual_server (LVS)'],
  },
];
