// hello-js: a small JSON API, written as a fetch handler (the shape of
// Workers, Deno Deploy and Spin apps). js_buildpack runs it on QuickJS.
//
//   GET  /        what the platform told this instance (VCAP_APPLICATION)
//   POST /echo    the JSON body it was sent, with the time it came back

const startedAt = new Date().toISOString(); // at staging: the snapshot keeps it

export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (request.method === 'GET' && url.pathname === '/') {
      // Per-instance facts are read per request, never at load time.
      const vcap = JSON.parse(process.env.VCAP_APPLICATION || '{}');
      console.log(`GET / on instance ${vcap.instance_index}`);
      return Response.json({
        message: 'hello from wasmfoundry, in JavaScript',
        instance_index: vcap.instance_index,
        port: process.env.PORT,
        memory_limit: process.env.MEMORY_LIMIT,
        loaded_at: startedAt,
        vcap_application: vcap,
      });
    }
    if (request.method === 'POST' && url.pathname === '/echo') {
      let body;
      try {
        body = await request.json();
      } catch {
        return Response.json({ error: 'send a JSON body' }, { status: 400 });
      }
      return Response.json({ echo: body, at: new Date().toISOString() });
    }
    return Response.json({ error: `no route for ${request.method} ${url.pathname}` }, { status: 404 });
  },
};
