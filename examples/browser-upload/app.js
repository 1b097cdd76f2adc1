// The page: asks the app's backend for a session, then sends the file straight to Spool with
// @spool/client in the browser, which resumes after lost connections and checks the stored
// object's size and hashes. Spool serves the client as one module at /_spool/spool-client.js; an
// app with a bundler imports '@spool/client/browser' instead.
const spool = document.body.dataset.spool;
const { createUpload } = await import(`${spool}/_spool/spool-client.js`);

const input = document.getElementById('file');
const progress = document.getElementById('progress');
const status = document.getElementById('status');

function show(state, text) {
  status.dataset.state = state;
  status.textContent = text;
}

input.addEventListener('change', async () => {
  const file = input.files[0];
  if (!file) return;
  try {
    show('starting', `Uploading ${file.name}…`);
    const res = await fetch('/uploads', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: file.name, size: file.size, type: file.type }),
    });
    if (!res.ok) throw new Error(await res.text());
    const { sessionUri, object } = await res.json();
    const upload = createUpload(file, { sessionUri }, { endpoint: spool });
    upload.on('progress', ({ sent, total }) => {
      progress.value = total ? sent / total : 0;
      if (status.dataset.state !== 'uploading') show('uploading', `Uploading ${file.name}…`);
    });
    upload.on('retry', ({ delay }) =>
      show('retrying', `Connection lost; trying again in ${Math.ceil(delay / 1000)} s…`),
    );
    const stored = await upload.start();
    show('done', `Stored ${object} (${stored.size} bytes).`);
  } catch (error) {
    show('failed', `The upload failed: ${error.message}`);
  }
});
