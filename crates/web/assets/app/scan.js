// Scan page improvements; the page works without them.
// 1. A scanned QR payload (PN1:…) is checked against the published signing keys before it is
//    sent: a forged or altered cheque is refused at once, even with a poor connection. The
//    server checks it again. Browsers without Ed25519 in WebCrypto skip this step.
// 2. Scan a QR code with the camera: BarcodeDetector where the browser has it, else jsQR.
// 3. Disable the submit button once pressed (the idempotency key already makes a double
//    submit harmless; this only avoids a confusing second answer).
// 4. Keep the typed code and service until the server answers: when the session had expired,
//    the mediator signs in again, comes back here and finds them filled in, to check and send.
(function () {
  var form = document.getElementById("scan-form");
  if (!form) return;
  var input = document.getElementById("code");
  var ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  var MALFORMED = "Le QR code est incomplet ou abîmé : tapez le code imprimé sous le QR code.";
  var FORGED = "La signature ne correspond pas : ce n\u2019est pas un chèque authentique. Ne l\u2019acceptez pas.";
  var UNKNOWN = "Ce chèque est signé par une clé inconnue ou révoquée : ce n\u2019est pas un chèque authentique. Ne l\u2019acceptez pas.";
  var keys = {};
  try { keys = JSON.parse(form.getAttribute("data-keys") || "{}"); } catch (e) { keys = {}; }

  function base32(text) {
    var out = [], acc = 0, bits = 0;
    for (var i = 0; i < text.length; i++) {
      var v = ALPHABET.indexOf(text[i]);
      if (v < 0) return null;
      acc = ((acc << 5) | v) & 0xffff; bits += 5;
      if (bits >= 8) { bits -= 8; out.push((acc >> bits) & 0xff); }
    }
    return new Uint8Array(out);
  }
  function base64url(text) {
    var s = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
    var out = new Uint8Array(s.length);
    for (var i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
    return out;
  }
  // Resolves to null when genuine (or when this browser cannot check), else to a message.
  function check(raw) {
    var text = raw.trim().toUpperCase();
    if (text.indexOf("PN1:") !== 0) return Promise.resolve(null);
    var cut = text.lastIndexOf(":");
    var signed = text.slice(0, cut), parts = signed.split(":");
    var sig = base32(text.slice(cut + 1));
    if (parts.length !== 6 || !sig || sig.length !== 64) return Promise.resolve(MALFORMED);
    var x = keys[parts[5]];
    if (!x) return Promise.resolve(UNKNOWN);
    if (!window.crypto || !crypto.subtle) return Promise.resolve(null);
    return crypto.subtle.importKey("raw", base64url(x), { name: "Ed25519" }, false, ["verify"])
      .then(function (key) {
        return crypto.subtle.verify({ name: "Ed25519" }, key, sig, new TextEncoder().encode(signed));
      })
      .then(function (ok) { return ok ? null : FORGED; }, function () { return null; });
  }
  function show(message) {
    var box = document.getElementById("verification-locale");
    box.textContent = message;
    box.hidden = false;
    input.setAttribute("aria-invalid", "true");
    input.focus();
  }
  var KEPT = "passnum-scan-en-cours";
  var service = document.getElementById("service");
  try {
    if (document.getElementById("resultat") || document.querySelector("#scan-form [aria-invalid=true]")) {
      // The server answered the last submission: nothing is pending any more.
      sessionStorage.removeItem(KEPT);
    } else {
      var kept = JSON.parse(sessionStorage.getItem(KEPT) || "null");
      sessionStorage.removeItem(KEPT);
      if (kept && kept.code && !input.value) {
        input.value = kept.code;
        if (kept.service) service.value = kept.service;
        var note = document.getElementById("code-repris");
        note.hidden = false;
      }
    }
  } catch (e) { /* storage refused (private mode): the page works without it */ }
  function keep() {
    try { sessionStorage.setItem(KEPT, JSON.stringify({ code: input.value, service: service.value })); } catch (e) { /* idem */ }
  }

  var checked = false;
  form.addEventListener("submit", function (event) {
    var b = form.querySelector("button[type=submit]");
    if (!checked && input.value.trim().toUpperCase().indexOf("PN1:") === 0) {
      event.preventDefault();
      check(input.value).then(function (problem) {
        if (problem) { show(problem); return; }
        checked = true;
        if (b) { b.disabled = true; b.textContent = "Vérification…"; }
        keep();
        form.submit();
      });
      return;
    }
    keep();
    if (b) { b.disabled = true; b.textContent = "Vérification…"; }
  });
  input.addEventListener("input", function () {
    document.getElementById("verification-locale").hidden = true;
    checked = false;
  });

  // The camera: BarcodeDetector where the browser has it, else the vendored jsQR decoder,
  // fetched only when the camera is opened so that the page stays light until then.
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) return;
  var zone = document.getElementById("camera-zone");
  var button = document.createElement("button");
  button.type = "button";
  button.className = "fr-btn fr-btn--secondary fr-mt-2w";
  button.textContent = "Scanner le QR code avec la caméra";
  zone.appendChild(button);

  function loadDecoder() {
    if ("BarcodeDetector" in window) {
      var detector = new window.BarcodeDetector({ formats: ["qr_code"] });
      return Promise.resolve(function (video) {
        return detector.detect(video).then(function (codes) { return codes.length ? codes[0].rawValue : null; });
      });
    }
    return new Promise(function (resolve, reject) {
      var s = document.createElement("script");
      s.src = "/static/vendor/jsqr/jsQR.min.js";
      s.onload = function () { resolve(window.jsQR); };
      s.onerror = reject;
      document.head.appendChild(s);
    }).then(function (jsQR) {
      var canvas = document.createElement("canvas");
      var context = canvas.getContext("2d", { willReadFrequently: true });
      return function (video) {
        // At most 640 px wide: enough for a cheque held in front of the camera, and light
        // for an old laptop.
        var scale = Math.min(1, 640 / (video.videoWidth || 640));
        canvas.width = Math.round(video.videoWidth * scale);
        canvas.height = Math.round(video.videoHeight * scale);
        if (!canvas.width || !canvas.height) return Promise.resolve(null);
        context.drawImage(video, 0, 0, canvas.width, canvas.height);
        var image = context.getImageData(0, 0, canvas.width, canvas.height);
        var found = jsQR(image.data, image.width, image.height, { inversionAttempts: "dontInvert" });
        return Promise.resolve(found ? found.data : null);
      };
    });
  }

  function refuse() {
    zone.insertAdjacentHTML("beforeend", '<p class="fr-error-text">La caméra n\u2019est pas accessible : tapez le code.</p>');
  }

  button.addEventListener("click", function () {
    button.disabled = true;
    var video = document.createElement("video");
    video.setAttribute("playsinline", "");
    video.setAttribute("muted", "");
    video.setAttribute("aria-label", "Image de la caméra");
    video.className = "pn-camera";
    Promise.all([loadDecoder(), navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } })])
      .then(function (both) {
        var decode = both[0], stream = both[1];
        zone.appendChild(video);
        video.srcObject = stream;
        video.play();
        var stop = function () {
          stream.getTracks().forEach(function (t) { t.stop(); });
          video.remove();
          button.disabled = false;
        };
        // About five looks a second: the decoder runs on the page's only thread.
        var look = function () {
          decode(video).then(function (text) {
            if (text) {
              // The whole signed payload: its signature is checked on submit.
              input.value = text;
              input.dispatchEvent(new Event("input"));
              stop();
              input.focus();
            } else {
              setTimeout(look, 200);
            }
          }, function () { setTimeout(look, 200); });
        };
        look();
      }, function () { button.disabled = false; refuse(); });
  });
})();
