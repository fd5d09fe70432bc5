// An Express 4 app as it would run under node: `app.listen(PORT)`, JSON
// and form bodies, route parameters, static files, a streamed response
// and Express's own error handling. `wf push hello-express` runs it.
const express = require('express');
const path = require('path');

const app = express();
app.use(express.json());
app.use(express.urlencoded({ extended: true }));
app.use(express.static(path.join(__dirname, 'public')));

const items = new Map();

app.get('/', (req, res) => {
  const vcap = JSON.parse(process.env.VCAP_APPLICATION || '{}');
  res.json({
    message: 'hello from wasmfoundry, in Express',
    application_name: vcap.application_name,
    instance_index: Number(process.env.CF_INSTANCE_INDEX),
    port: process.env.PORT,
  });
});

app.get('/hello/:name', (req, res) => {
  res.type('text').send(`hello, ${req.params.name}${req.query.punct || ''}`);
});

app.post('/items', (req, res) => {
  if (!req.body || typeof req.body.name !== 'string') return res.status(422).json({ error: 'send {"name": "..."}' });
  const id = String(items.size + 1);
  items.set(id, { id, name: req.body.name, tags: req.body.tags || [] });
  res.status(201).location(`/items/${id}`).json(items.get(id));
});

app.get('/items/:id', (req, res, next) => {
  const item = items.get(req.params.id);
  if (!item) return next();
  res.json(item);
});

app.post('/form', (req, res) => res.json({ form: req.body }));

app.get('/headers', (req, res) => {
  res.cookie('seen', 'yes', { httpOnly: true });
  res.set('X-Greeting', 'yes');
  res.json({ userAgent: req.get('user-agent'), protocol: req.protocol, hostname: req.hostname, ip: req.ip, xhr: req.xhr });
});

// Streams: each line goes to the client as it is written.
app.get('/stream', (req, res) => {
  const count = Math.min(Number(req.query.lines) || 5, 100);
  res.type('text/plain');
  let n = 0;
  const timer = setInterval(() => {
    n += 1;
    res.write(`line ${n}\n`);
    if (n === count) {
      clearInterval(timer);
      res.end('done\n');
    }
  }, 10);
});

app.get('/redirect', (req, res) => res.redirect(302, '/hello/redirected'));

app.get('/boom', () => {
  throw new Error('boom, as asked');
});

app.use((req, res) => res.status(404).json({ error: `no route for ${req.method} ${req.path}` }));

// eslint-disable-next-line no-unused-vars
app.use((err, req, res, next) => {
  console.error(`error on ${req.method} ${req.path}: ${err.message}`);
  res.status(err.status || 500).json({ error: err.message });
});

const port = process.env.PORT || 3000;
app.listen(port, () => console.log(`hello-express listening on ${port}`));
