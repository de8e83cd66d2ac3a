import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { render } from '../../src/render.js';
import { emitters } from '../../src/emitters/index.js';
import { checkSettings, settingsMarkdown } from '../../src/emitters/settings.js';
import { FEATURES, type Feature } from '../../src/model/features.js';
import type { Emitter, Fidelity } from '../../src/emitters/types.js';
import { exampleMesh, ROOT } from '../support/meshes.js';

const byName = (name: string) => emitters.find((e) => e.target === name)!;
const shop = exampleMesh('shop');

function custom(target: string): Emitter {
  return {
    target,
    summary: 'a target of a library user, without declared settings',
    fidelity: Object.fromEntries(FEATURES.map((f) => [f, 'exact'])) as Record<Feature, Fidelity>,
    emit: (_mesh, options) => ({
      files: [{ path: 'settings.json', contents: JSON.stringify(options.settings ?? {}) }],
      diagnostics: [],
    }),
  };
}

describe('target settings', () => {
  it('are declared by every target, each with a description', () => {
    for (const e of emitters) {
      expect(e.settings?.length, e.target).toBeGreaterThan(0);
      for (const s of e.settings!) expect(s.description, `${e.target} ${s.name}`).not.toBe('');
    }
  });

  it('declare the defaults the targets use: setting the declared default changes no byte', () => {
    for (const e of emitters) {
      const plain = render(shop, { targets: [e.target] });
      for (const s of e.settings!) {
        if (s.default === undefined) continue;
        const set = render(shop, { targets: [e.target], settings: { [s.name]: s.default } });
        // (an info diagnostic may say that the default is used)
        const kept = (r: typeof plain) => r.diagnostics.filter((d) => d.severity !== 'info');
        expect(kept(set), `${e.target} ${s.name}`).toEqual(kept(plain));
        expect(set.outputs, `${e.target} ${s.name}=${s.default}`).toEqual(plain.outputs);
      }
    }
  });

  it('refuse a key no rendered target declares, with the nearest key (MG4003), and render nothing', () => {
    const r = render(shop, { targets: ['haproxy'], settings: { certdir: 'certs' } });
    expect(r.outputs).toEqual([]);
    expect(r.diagnostics).toEqual([
      expect.objectContaining({
        code: 'MG4003',
        severity: 'error',
        message: '--set certdir: haproxy has no setting "certdir"',
        hint: 'did you mean "certDir"?',
      }),
    ]);
    const linkerd = render(shop, { targets: ['linkerd'], settings: { gatewayClas: 'x' } });
    expect(linkerd.diagnostics[0]?.hint).toBe('did you mean "gatewayClass"?');
    const istio = render(shop, { targets: ['istio'], settings: { certDir: 'certs' } });
    expect(istio.diagnostics[0]?.hint).toBe(
      '"certDir" is a setting of haproxy, nginx, envoy, apache, traefik, which are not rendered here',
    );
  });

  it('refuse a value the declaration does not accept, for every setting that checks its value', () => {
    for (const e of emitters)
      for (const s of e.settings!) {
        if (!s.values && !s.check) continue;
        const bad = ['no-such-value', '', '-1', 'a b'].find((v) =>
          s.values ? !s.values.includes(v) : !s.check!(v),
        );
        expect(bad, `${e.target} ${s.name} refuses nothing`).toBeDefined();
        const key = s.name.replace(/<[^>]+>$/, 'catalog');
        const r = render(shop, { targets: [e.target], settings: { [key]: bad! } });
        expect(r.outputs, `${e.target} ${key}=${bad}`).toEqual([]);
        expect(r.diagnostics[0], `${e.target} ${key}=${bad}`).toMatchObject({
          code: 'MG4003',
          severity: 'error',
          target: e.target,
        });
      }
    const mode = render(shop, { targets: ['iptables'], settings: { mode: 'vpi' } });
    expect(mode.diagnostics[0]?.message).toBe(
      '--set mode="vpi" is not valid for the iptables target: it takes sidecar, vip',
    );
    expect(mode.diagnostics[0]?.hint).toBe('did you mean "vip"?');
  });

  it('take a plain key any rendered target declares; <target>.<key> is one rendered target only', () => {
    const two = ['haproxy', 'istio'];
    expect(checkSettings(two.map(byName), emitters, { certDir: 'certs' })).toEqual([]);
    expect(checkSettings(two.map(byName), emitters, { 'haproxy.certDir': 'certs' })).toEqual([]);
    // a value is checked by every rendered target that declares the key
    expect(
      checkSettings(['envoy', 'iptables'].map(byName), emitters, { inboundPort: '0' }).map((d) => d.target),
    ).toEqual(['envoy', 'iptables']);
    expect(
      checkSettings(two.map(byName), emitters, { 'istio.certDir': 'certs' }).map((d) => d.message),
    ).toEqual(['--set istio.certDir: istio has no setting "certDir"']);
    expect(
      checkSettings([byName('istio')], emitters, { 'linkerd.gatewayClass': 'eg' }).map((d) => d.message),
    ).toEqual(['--set linkerd.gatewayClass: the linkerd target is not rendered']);
    // the settings of the releases each target renders for (`version`, or `<target>.version`)
    expect(checkSettings([byName('istio')], emitters, { version: '1.22' })).toEqual([]);
    expect(checkSettings(['istio', 'linkerd'].map(byName), emitters, { 'istio.version': '1.22' })).toEqual(
      [],
    );
    // vip.<backend> is a family of keys
    expect(checkSettings([byName('iptables')], emitters, { 'vip.catalog': '10.96.0.10' })).toEqual([]);
  });

  it('let every key through to a target that declares none (an emitter of a library user)', () => {
    const mine = custom('mine');
    const r = render(shop, { targets: ['mine'], emitters: [mine], settings: { anything: 'x' } });
    expect(r.diagnostics).toEqual([]);
    expect(r.outputs[0]?.files[0]?.contents).toBe('{"anything":"x"}');
  });

  it('give each target the plain keys and its own <target>.<key> ones, which win', () => {
    const r = render(shop, {
      targets: ['a', 'b'],
      emitters: [custom('a'), custom('b')],
      settings: { 'a.x': '1', x: '2', 'b.y': '3' },
    });
    expect(r.outputs.map((o) => JSON.parse(o.files[0]!.contents))).toEqual([{ x: '1' }, { x: '2', y: '3' }]);
  });

  it('are the tables of the docs (npm run docs:settings)', () => {
    for (const e of emitters) {
      const page = fs.readFileSync(path.join(ROOT, 'docs', `${e.target}.md`), 'utf8');
      const shown = /<!-- settings:start[^\n]*-->\n([\s\S]*?)<!-- settings:end -->/.exec(page)?.[1];
      expect(shown, `docs/${e.target}.md`).toBe(settingsMarkdown(e));
    }
  });
});

describe('render --target', () => {
  it('renders a target named twice once', () => {
    const once = render(shop, { targets: ['istio'] });
    const twice = render(shop, { targets: ['istio', 'istio'] });
    expect(twice.outputs).toEqual(once.outputs);
    expect(twice.diagnostics).toEqual(once.diagnostics);
  });

  it('suggests the nearest target for an unknown one (MG4002)', () => {
    const r = render(shop, { targets: ['istoi'] });
    expect(r.diagnostics[0]).toMatchObject({ code: 'MG4002', hint: 'did you mean "istio"?' });
  });
});
