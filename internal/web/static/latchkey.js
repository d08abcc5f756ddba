// Latchkey's page code: the WebAuthn calls for sign-in and registration, and the copy button.
// It talks only to this server's JSON API; no outside scripts.
(() => {
  "use strict";
  const $ = (sel) => document.querySelector(sel);

  // What to tell a person when the browser refuses a ceremony (DESIGN §5 client errors).
  const browserMessages = {
    NotAllowedError: "The request was cancelled or timed out, or your device didn't confirm it's you. Try again, and unlock your device with your face, fingerprint or PIN when asked.",
    InvalidStateError: "This device or security key already has a passkey for your account. Use another one, or sign in with the passkey you already have.",
    AbortError: "The request was stopped. Try again.",
    SecurityError: "Passkeys can't be used at this address. Open the sign-in page at the address your IT team gave you.",
    NotSupportedError: "This browser or device can't use passkeys. Update your browser, or use a security key.",
    ConstraintError: "Your device can't check it's you (face, fingerprint or PIN). Set up a screen lock, or use a security key.",
    TypeError: "Something on this page went wrong. Reload the page and try again.",
    UnknownError: "Your device reported a problem. Try again, or use another device.",
  };

  function describe(err) {
    if (err && err.server) {
      return err.message + (err.correlationId ? " (Reference for IT: " + err.correlationId + ")" : "");
    }
    return browserMessages[err && err.name] || "Something went wrong. Try again.";
  }

  function show(el, text) {
    if (!el) return;
    el.textContent = text || "";
    el.classList.toggle("hidden", !text);
  }

  // localTarget returns s when it is a safe place on this site to go to, fallback otherwise. It
  // applies the server's rules (safeLocalTarget in target.go) to the data-next values of the
  // pages, so that the page never navigates to a value the server did not check: one leading
  // "/", printable ASCII without spaces or backslashes, no encoded slash, backslash or control
  // character (decoded up to five times), and the browser's own resolution stays on this origin.
  function localTarget(s, fallback) {
    if (typeof s !== "string" || s.length === 0 || s.length > 2048 || s[0] !== "/" || s[1] === "/" || s[1] === "\\") return fallback;
    let d = s;
    for (let i = 0; ; i++) {
      if (!/^[\x21-\x7e]*$/.test(d) || d.includes("\\") || /%2f|%5c/i.test(d) || i === 4) return fallback;
      let next;
      try { next = decodeURIComponent(d); } catch (_) { return fallback; }
      if (next === d) break;
      d = next;
    }
    try {
      const u = new URL(s, window.location.origin);
      if (u.origin !== window.location.origin) return fallback;
    } catch (_) {
      return fallback;
    }
    return s;
  }

  async function api(path, body) {
    const res = await fetch(path, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body || {}),
    });
    let data = {};
    try { data = await res.json(); } catch (_) { /* not JSON */ }
    if (!res.ok) {
      const e = new Error(data.message || "The server refused the request.");
      e.server = true;
      e.code = data.error;
      e.correlationId = data.correlationId;
      throw e;
    }
    return data;
  }

  // base64url helpers for browsers without the JSON parsing helpers of WebAuthn Level 3.
  const b64urlToBuf = (s) => Uint8Array.from(atob(s.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((s.length + 3) % 4)), (c) => c.charCodeAt(0)).buffer;
  const bufToB64url = (b) => btoa(String.fromCharCode(...new Uint8Array(b))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

  function creationOptions(pk) {
    if (PublicKeyCredential.parseCreationOptionsFromJSON) return PublicKeyCredential.parseCreationOptionsFromJSON(pk);
    return Object.assign({}, pk, {
      challenge: b64urlToBuf(pk.challenge),
      user: Object.assign({}, pk.user, { id: b64urlToBuf(pk.user.id) }),
      excludeCredentials: (pk.excludeCredentials || []).map((c) => Object.assign({}, c, { id: b64urlToBuf(c.id) })),
    });
  }

  function requestOptions(pk) {
    if (PublicKeyCredential.parseRequestOptionsFromJSON) return PublicKeyCredential.parseRequestOptionsFromJSON(pk);
    return Object.assign({}, pk, {
      challenge: b64urlToBuf(pk.challenge),
      allowCredentials: (pk.allowCredentials || []).map((c) => Object.assign({}, c, { id: b64urlToBuf(c.id) })),
    });
  }

  function credentialJSON(cred) {
    if (cred.toJSON) return cred.toJSON();
    const r = cred.response;
    const out = { id: cred.id, rawId: bufToB64url(cred.rawId), type: cred.type, authenticatorAttachment: cred.authenticatorAttachment, clientExtensionResults: cred.getClientExtensionResults(), response: { clientDataJSON: bufToB64url(r.clientDataJSON) } };
    if (r.attestationObject) {
      out.response.attestationObject = bufToB64url(r.attestationObject);
      out.response.transports = r.getTransports ? r.getTransports() : [];
    } else {
      out.response.authenticatorData = bufToB64url(r.authenticatorData);
      out.response.signature = bufToB64url(r.signature);
      if (r.userHandle) out.response.userHandle = bufToB64url(r.userHandle);
    }
    return out;
  }

  async function signIn({ username, mediation, signal }) {
    const { publicKey } = await api("/api/v1/webauthn/authentication/options", username ? { username } : {});
    const cred = await navigator.credentials.get({ publicKey: requestOptions(publicKey), mediation, signal });
    return api("/api/v1/webauthn/authentication/verify", credentialJSON(cred));
  }

  async function register() {
    let options;
    try {
      options = await api("/api/v1/webauthn/registration/options");
    } catch (e) {
      if (e.code !== "reauthentication_required") throw e;
      await signIn({}); // confirm it's you with an existing passkey, then go on
      options = await api("/api/v1/webauthn/registration/options");
    }
    const cred = await navigator.credentials.create({ publicKey: creationOptions(options.publicKey) });
    return api("/api/v1/webauthn/registration/verify", credentialJSON(cred));
  }

  function initSignIn(root) {
    const status = $("#signin-status"), error = $("#signin-error");
    const next = localTarget(root.dataset.next, "/my/security-info");
    let conditional = null;
    // After a sign-in with a phone across devices, on the way to an application, the offer to
    // create a passkey on this device comes first; its "Not now" continues to the application.
    const done = (answer) => {
      show(status, "Signed in. One moment…");
      const offer = answer && answer.offerPasskeyHere && next.startsWith("/oidc/");
      window.location.assign(offer ? "/signin/offer?next=" + encodeURIComponent(next) : next);
    };

    if (!window.PublicKeyCredential) {
      show(error, browserMessages.NotSupportedError);
      return;
    }
    // Autofill: offer passkeys in the user-name field's suggestions.
    if (PublicKeyCredential.isConditionalMediationAvailable) {
      PublicKeyCredential.isConditionalMediationAvailable().then((ok) => {
        if (!ok) return;
        conditional = new AbortController();
        signIn({ mediation: "conditional", signal: conditional.signal }).then(done).catch((e) => {
          // Cancelled by the button, or no passkey picked: the person has not asked for
          // anything yet, so there is nothing to tell them.
          if (e && (e.name === "AbortError" || e.name === "NotAllowedError")) return;
          show(error, describe(e));
        });
      });
    }
    $("#signin-form").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      if (conditional) { conditional.abort(); conditional = null; }
      show(error, "");
      show(status, "Follow the steps on your device…");
      try {
        done(await signIn({ username: $("#username").value.trim() }));
      } catch (e) {
        show(status, "");
        show(error, describe(e));
      }
    });
  }

  // initSecurityInfo wires the "Create a passkey" button of My security info, and of the nudge
  // after a password sign-in, which goes on to its data-next afterwards.
  // The offer card's "Create a passkey here" (#add-passkey-here) works the same way.
  function initSecurityInfo(root) {
    const after = localTarget(root && root.dataset.next, "/my/security-info?notice=added");
    wireRegister($("#add-passkey"), $("#register-status"), $("#register-error"), after);
    wireRegister($("#add-passkey-here"), $("#here-status"), $("#here-error"), after);
    wireRegister($("#add-second-passkey"), $("#second-status"), $("#second-error"), after);
  }

  function wireRegister(button, status, error, after) {
    if (!button) return;
    button.addEventListener("click", async () => {
      button.disabled = true;
      show(error, "");
      show(status, "Follow the steps on your device…");
      try {
        await register();
        window.location.assign(after);
      } catch (e) {
        show(status, "");
        show(error, describe(e));
        button.disabled = false;
      }
    });
  }

  function initCopy() {
    document.querySelectorAll("[data-copy]").forEach((b) => {
      b.addEventListener("click", async () => {
        const text = document.getElementById(b.dataset.copy).textContent.trim();
        try {
          await navigator.clipboard.writeText(text);
          show($("#copy-status"), "Copied.");
        } catch (_) {
          const range = document.createRange();
          range.selectNodeContents(document.getElementById(b.dataset.copy));
          window.getSelection().removeAllRanges();
          window.getSelection().addRange(range);
          show($("#copy-status"), "Selected. Press Ctrl+C (or ⌘C) to copy.");
        }
      });
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    const page = document.querySelector("[data-page]");
    if (page && page.dataset.page === "signin") initSignIn(page);
    if (page && (page.dataset.page === "security-info" || page.dataset.page === "nudge")) initSecurityInfo(page);
    initCopy();
  });
})();
