import { Etcd3 } from 'etcd3';
const c = new Etcd3({ hosts: 'http://127.0.0.1:23791', dialTimeout: 5000 });
const w = await c.watch().prefix('/t/').create();
w.on('put', (kv) => console.log('put', kv.key.toString()));
w.on('data', (d) => console.log('data', d.events?.length));
w.on('connected', () => console.log('connected'));
await c.put('/t/x').value('1');
await new Promise((r) => setTimeout(r, 1000));
c.close();
