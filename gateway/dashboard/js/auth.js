// Login, logout and the CSRF token the gateway wants on every change made with the session cookie (docs/security.md).
import { h } from './dom.js';

let csrf = null;

/** Headers for a state-changing request: the session's CSRF token, once logged in. */
export function csrfHeaders() {
  return csrf ? { 'X-CSRF-Token': csrf } : {};
}

/** GET /api/auth/session: {auth: {spots, api, users, open}, user, role, csrf}. Open, so it never answers 401. */
export async function loadSession() {
  const res = await fetch('/api/auth/session', { cache: 'no-store' });
  const session = await res.json();
  csrf = session.csrf;
  return session;
}

/** Whether the API wants a login before anything is shown. */
export function needsLogin(session) {
  return session.auth.api === 'on' && session.auth.users > 0 && !session.user;
}

/** The login form; `done(session)` once the gateway took the password. */
export function loginForm(done) {
  const user = h('input', { id: 'login-user', name: 'username', autocomplete: 'username', required: true });
  const password = h('input', { id: 'login-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const result = h('p', { id: 'login-result', class: 'result' });
  const submit = async (e) => {
    e.preventDefault();
    const res = await fetch('/api/auth/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user: user.value, password: password.value }),
    });
    const body = await res.json().catch(() => ({}));
    if (res.status !== 200) {
      result.dataset.state = 'bad';
      result.textContent = body.reason ?? `login failed (${res.status})`;
      return;
    }
    csrf = body.csrf;
    done(body);
  };
  return h(
    'form',
    { class: 'card login', id: 'login', onsubmit: submit },
    h('h2', {}, 'Log in'),
    h('label', { for: 'login-user' }, 'User'),
    user,
    h('label', { for: 'login-password' }, 'Password'),
    password,
    h('button', { type: 'submit', id: 'login-send' }, 'Log in'),
    result,
  );
}

export async function logout() {
  await fetch('/api/auth/logout', { method: 'POST', headers: csrfHeaders() });
  csrf = null;
  location.reload();
}
