// snapdeck embed loader: the one stable URL a host page includes.
//
//   <div data-snapdeck data-view="timeline" data-devbox="dbx_…"></div>
//   <script type="module" src="https://snapdeck.example/snapdeck-embed.js"></script>
//
// Trunk names the app's files by content hash (snapdeck-<hash>.js, main-<hash>.css),
// and only the dashboard's index.html knows the current names. This script reads that
// index.html next to itself, adds the app's stylesheets (not its page-level <style>,
// which styles <body>) and starts the wasm app with absolute URLs, so it works from any
// page of any origin that can fetch them. The app then mounts into every
// [data-snapdeck] element present at that time.

const base = new URL('./', import.meta.url);

async function load() {
  const res = await fetch(new URL('index.html', base), { credentials: 'same-origin' });
  if (!res.ok) throw new Error(`snapdeck: could not load ${res.url} (${res.status})`);
  const doc = new DOMParser().parseFromString(await res.text(), 'text/html');
  const abs = (href) => new URL(href, base).href;

  for (const link of doc.querySelectorAll('link[rel="stylesheet"][href]')) {
    const el = document.createElement('link');
    el.rel = 'stylesheet';
    el.href = abs(link.getAttribute('href'));
    el.dataset.snapdeckAsset = '';
    // Last in <head>: the embed's reset of the host's element rules must come later.
    document.head.append(el);
  }

  const js = doc.querySelector('link[rel="modulepreload"][href]');
  const wasm = doc.querySelector('link[rel="preload"][href$=".wasm"]');
  if (!js || !wasm) throw new Error('snapdeck: index.html does not name the app files');
  const app = await import(abs(js.getAttribute('href')));
  await app.default({ module_or_path: abs(wasm.getAttribute('href')) });
}

load().catch((e) => console.error(e));
