// Sign-in for the administration pages: the credentials go to the API's own sign-in
// (POST /api/v1/auth/login, throttled and audited like any sign-in); the access token
// it returns is exchanged at POST /admin/session for an HttpOnly, SameSite=Strict
// cookie that only /admin/ pages receive. The token never stays in script reach.
"use strict";

document.getElementById("signin").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const error = document.getElementById("error");
  error.hidden = true;
  const show = (msg) => {
    error.textContent = msg;
    error.hidden = false;
  };
  try {
    const login = await fetch("/api/v1/auth/login", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({
        email: document.getElementById("email").value,
        password: document.getElementById("password").value,
      }),
    });
    const body = await login.json().catch(() => ({}));
    if (!login.ok) {
      show(body.msg || `Sign-in failed (status ${login.status}).`);
      return;
    }
    const session = await fetch("/admin/session", {
      method: "POST",
      headers: { Authorization: `Bearer ${body.data.access_token}` },
    });
    if (!session.ok) {
      const sb = await session.json().catch(() => ({}));
      show(session.status === 403 ? "This account is not an administrator." : sb.msg || `Status ${session.status}.`);
      return;
    }
    const next = new URLSearchParams(location.search).get("next");
    location.assign(next && next.startsWith("/admin/") && !next.startsWith("//") ? next : "/admin/jobs/");
  } catch (e) {
    show(`Sign-in failed: ${e.message}`);
  }
});
