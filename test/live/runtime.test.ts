import { describe, expect, it } from 'vitest';
import { planRuntime, type SlotState } from '../../src/live/runtime.js';
import { meshFrom } from '../support/meshes.js';

const mesh = (endpoints: string[]) =>
  meshFrom(`apiVersion: meshgen.io/v1alpha1
kind: Mesh
metadata: { name: rt }
spec:
  mtls: { mode: disabled }
  backends:
    - name: api
      port: 9000
      protocol: http
      versions:
        - name: v1
          endpoints: [${endpoints.map((e) => JSON.stringify(e)).join(', ')}]
`);

const state = (slots: (string | undefined)[]): SlotState[] => [
  { backend: 'api', version: 'v1', pools: ['p1', 'p2'], slots },
];

describe('planRuntime', () => {
  it('puts a new endpoint into a spare slot in every pool and keeps the others in theirs', () => {
    const plan = planRuntime(
      state(['10.0.0.1:80', undefined, undefined]),
      mesh(['10.0.0.1:80', '10.0.0.2:81']),
    );
    expect(plan).toEqual({
      ok: true,
      commands: [
        'set server p1/v1-1 addr 10.0.0.2 port 81',
        'set server p1/v1-1 state ready',
        'set server p2/v1-1 addr 10.0.0.2 port 81',
        'set server p2/v1-1 state ready',
      ],
      next: state(['10.0.0.1:80', '10.0.0.2:81', undefined]),
    });
  });

  it('puts a removed endpoint’s slot into maintenance after the additions', () => {
    const plan = planRuntime(
      state(['10.0.0.1:80', '10.0.0.2:81', undefined]),
      mesh(['10.0.0.2:81', '[::1]:82']),
    );
    expect(plan).toEqual({
      ok: true,
      commands: [
        'set server p1/v1-2 addr ::1 port 82',
        'set server p1/v1-2 state ready',
        'set server p2/v1-2 addr ::1 port 82',
        'set server p2/v1-2 state ready',
        'set server p1/v1-0 state maint',
        'set server p2/v1-0 state maint',
      ],
      next: state([undefined, '10.0.0.2:81', '[::1]:82']),
    });
  });

  it('reuses a freed slot (maintenance first) when no spare one is left', () => {
    const plan = planRuntime(state(['10.0.0.1:80', '10.0.0.2:81']), mesh(['10.0.0.2:81', '10.0.0.3:80']));
    expect(plan.ok && plan.commands.slice(0, 3)).toEqual([
      'set server p1/v1-0 state maint',
      'set server p1/v1-0 addr 10.0.0.3 port 80',
      'set server p1/v1-0 state ready',
    ]);
    expect(plan.ok && plan.next).toEqual(state(['10.0.0.3:80', '10.0.0.2:81']));
  });

  it('counts an address listed twice twice', () => {
    const plan = planRuntime(state(['10.0.0.1:80', '10.0.0.1:80', undefined]), mesh(['10.0.0.1:80']));
    expect(plan.ok && plan.next).toEqual(state(['10.0.0.1:80', undefined, undefined]));
  });

  it('says why when the endpoints do not fit or one is a host name', () => {
    expect(planRuntime(state(['10.0.0.1:80']), mesh(['10.0.0.1:80', '10.0.0.2:80']))).toEqual({
      ok: false,
      why: 'api/v1 has 2 endpoints and 1 server slots',
    });
    const dns = planRuntime(state([undefined, undefined]), mesh(['db.internal:80']));
    expect(dns.ok || dns.why).toContain('db.internal:80 of api/v1 is a host name');
  });
});
