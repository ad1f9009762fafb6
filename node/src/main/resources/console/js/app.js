// The console's shell: layout, sign-in page and the hash router that loads one page module per route.
import * as api from './api.js';
import {h, field, errorBox, busy} from './ui.js';

const view = document.getElementById('view');
const nav = document.getElementById('mainnav');
const session = document.getElementById('session');
const principalEl = document.getElementById('principal');

/** Routes: hash pattern → page module, its export and the title shown in the tab. */
const ROUTES = [
  {pattern: /^#\/streams$/, module: './streams.js', fn: 'render', section: 'streams', title: () => 'Data streams'},
  {pattern: /^#\/streams\/([^/]+)$/, module: './stream.js', fn: 'render', section: 'streams', keys: ['stream'],
    title: (p) => p.stream},
  {pattern: /^#\/streams\/([^/]+)\/data$/, module: './viewer.js', fn: 'render', section: 'streams', keys: ['stream'],
    title: (p) => `Data viewer: ${p.stream}`},
  {pattern: /^#\/keys$/, module: './keys.js', fn: 'render', section: 'keys', title: () => 'KMS keys'},
  {pattern: /^#\/users$/, module: './users.js', fn: 'render', section: 'users', title: () => 'IAM users'},
  {pattern: /^#\/users\/([^/]+)$/, module: './users.js', fn: 'renderUser', section: 'users', keys: ['user'],
    title: (p) => p.user},
];
const HOME = '#/streams';
const SIGN_IN = '#/signin';

let leave = null;        // what the current page returned to be called when the user leaves it
let generation = 0;      // bumps on every navigation, so a slow import does not render over a newer page
let afterSignIn = HOME;  // where to go once signed in

function match(hash) {
  for (const route of ROUTES) {
    const m = route.pattern.exec(hash);
    if (!m) continue;
    const params = {};
    try {
      (route.keys || []).forEach((key, i) => { params[key] = decodeURIComponent(m[i + 1]); });
    } catch {
      return null; // a malformed %-escape
    }
    return {route, params};
  }
  return null;
}

function leavePage() {
  generation += 1;
  if (typeof leave === 'function') {
    try {
      leave();
    } catch (e) {
      console.warn('leaving the page failed', e);
    }
  }
  leave = null;
  view.replaceChildren();
}

function showSignedIn(principal) {
  principalEl.textContent = principal ? principal.arn : '';
  nav.hidden = !principal;
  session.hidden = !principal;
}

function markSection(section) {
  for (const link of nav.querySelectorAll('a')) {
    if (link.dataset.section === section) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
}

async function route(moveFocus = false) {
  const hash = location.hash || '';
  if (!api.principal()) {
    if (hash && hash !== SIGN_IN) afterSignIn = hash;
    showSignIn();
    return;
  }
  if (hash === '' || hash === '#' || hash === '#/' || hash === SIGN_IN) {
    location.replace(HOME);
    return;
  }
  const found = match(hash);
  leavePage();
  const mine = generation;
  // after a click on a link, start reading (and tabbing) at the new page, not at the link that is gone
  if (moveFocus) view.focus({preventScroll: true});
  if (!found) {
    markSection(null);
    document.title = 'Not found · Sluice';
    view.append(
      h('h1', null, 'Page not found'),
      h('p', null, 'There is no console page at this address. ', h('a', {href: HOME}, 'Go to the data streams'), '.'));
    return;
  }
  const {route: r, params} = found;
  markSection(r.section);
  document.title = `${r.title(params)} · Sluice`;
  view.append(h('p', {class: 'loading'}, 'Loading…'));
  let mod;
  try {
    mod = await import(r.module);
  } catch (e) {
    if (mine !== generation) return;
    console.warn(`loading ${r.module} failed`, e);
    view.replaceChildren(h('h1', null, 'Page not available'),
      errorBox({type: 'ConsoleError', message: 'This page of the console could not be loaded.'}));
    return;
  }
  if (mine !== generation) return;
  view.replaceChildren();
  try {
    const cleanup = await mod[r.fn](view, params);
    if (mine !== generation) {
      if (typeof cleanup === 'function') cleanup();
      return;
    }
    leave = cleanup;
  } catch (e) {
    if (mine !== generation) return;
    if (e && e.type === 'ExpiredTokenException') return; // the signed-out event shows the sign-in page
    view.append(errorBox(e));
  }
}

let signInPage = null; // the sign-in page while it is shown

/** The InsecureContext error, with a link to this console on the node's HTTPS port when it has one. */
function insecureNotice(err) {
  const box = errorBox(err);
  api.httpsConsole()
    .then((url) => {
      if (url) box.append(h('p', null, 'This node serves it at ', h('a', {href: url}, url), '.'));
    })
    .catch((e) => console.warn('reading the console configuration failed', e));
  return box;
}

function showSignIn(notice) {
  // A page still running calls that fail after the session ended each fire sluice:signed-out: a form
  // already on screen (perhaps half filled in) stays.
  if (signInPage && view.contains(signInPage)) {
    if (location.hash !== SIGN_IN) history.replaceState(null, '', SIGN_IN);
    return;
  }
  leavePage();
  showSignedIn(null);
  markSection(null);
  document.title = 'Sign in · Sluice';
  if (location.hash !== SIGN_IN) history.replaceState(null, '', SIGN_IN);

  const keyId = h('input', {type: 'text', name: 'accessKeyId', autocomplete: 'username', spellcheck: 'false',
    autocapitalize: 'off', required: true});
  const secret = h('input', {type: 'password', name: 'secretAccessKey', autocomplete: 'current-password',
    required: true});
  const submit = h('button', {type: 'submit'}, 'Sign in');
  // plain HTTP elsewhere than localhost: say so before anyone types a secret that could not be used
  const insecure = api.insecureContext();
  const errors = h('div', {class: 'errors'}, insecure ? insecureNotice(insecure) : null);
  const form = h('form', {class: 'signin-form', novalidate: true},
    field('Access key ID', keyId),
    field('Secret access key', secret),
    errors,
    h('div', {class: 'actions'}, submit));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    errors.replaceChildren();
    const id = keyId.value.trim();
    if (!id || !secret.value) {
      errors.append(errorBox({type: 'ValidationException', message: 'Enter an access key ID and a secret access key.'}));
      return;
    }
    busy(submit, () => api.signIn(id, secret.value))
      .then((principal) => {
        secret.value = '';
        showSignedIn(principal);
        const target = afterSignIn && afterSignIn !== SIGN_IN ? afterSignIn : HOME;
        afterSignIn = HOME;
        if (location.hash === target) route();
        else location.hash = target;
      })
      .catch((err) => {
        secret.value = '';
        errors.replaceChildren(err.type === 'InsecureContext' ? insecureNotice(err) : errorBox(err));
        secret.focus();
      });
  });

  signInPage = h('div', {class: 'signin'},
    h('h1', null, 'Sign in'),
    h('p', {class: 'lead'}, 'Use the access key of the root account or of an IAM user. ',
      'The secret stays in this browser: it signs a request and is not sent.'),
    notice ? h('p', {class: 'notice', role: 'status'}, notice) : null,
    form);
  view.append(signInPage);
  keyId.focus();
}

document.getElementById('sign-out').addEventListener('click', (e) => {
  busy(e.currentTarget, () => api.signOut())
    .catch((err) => console.warn('signing out failed', err))
    .finally(() => showSignIn('You have signed out.'));
});

document.getElementById('skip-link').addEventListener('click', (e) => {
  e.preventDefault();
  view.focus();
});

window.addEventListener('sluice:signed-out', () => {
  if (location.hash && location.hash !== SIGN_IN) afterSignIn = location.hash;
  showSignIn('Your session has ended. Sign in again to continue.');
});

window.addEventListener('hashchange', () => {
  route(true).catch((e) => console.warn('navigation failed', e));
});

async function start() {
  let principal = null;
  try {
    principal = await api.restoreSession();
  } catch (e) {
    console.warn('restoring the session failed', e);
  }
  if (!principal) {
    if (location.hash && location.hash !== SIGN_IN) afterSignIn = location.hash;
    showSignIn();
    return;
  }
  showSignedIn(principal);
  await route();
}

start();
