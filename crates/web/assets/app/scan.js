// Scan page improvements; the page works without them.
// 1. A scanned QR payload (PN1:…) is checked against the published signing keys before it is
//    sent: a forged or altered cheque is refused at once, even with a poor connection. The
//    server checks it again. Browsers without Ed25519 in WebCrypto skip this step.
// 2. Scan a QR code with the camera where the browser has BarcodeDetector.
// 3. Disable the submit button once pressed (the idempotency key already makes a double
//    submit harmless; this only avoids a confusing second answer).
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
  var checked = false;
  form.addEventListener("submit", function (event) {
    var b = form.querySelector("button[type=submit]");
    if (!checked && input.value.trim().toUpperCase().indexOf("PN1:") === 0) {
      event.preventDefault();
      check(input.value).then(function (problem) {
        if (problem) { show(problem); return; }
        checked = true;
        if (b) { b.disabled = true; b.textContent = "Vérification…"; }
        form.submit();
      });
      return;
    }
    if (b) { b.disabled = true; b.textContent = "Vérification…"; }
  });
  input.addEventListener("input", function () {
    document.getElementById("verification-locale").hidden = true;
    checked = false;
  });

  if (!("BarcodeDetector" in window) || !navigator.mediaDevices) return;
  var zone = document.getElementById("camera-zone");
  var button = document.createElement("button");
  button.type = "button";
  button.className = "fr-btn fr-btn--secondary fr-mt-2w";
  button.textContent = "Scanner le QR code avec la caméra";
  zone.appendChild(button);
  button.addEventListener("click", function () {
    var video = document.createElement("video");
    video.setAttribute("playsinline", "");
    video.setAttribute("aria-label", "Image de la caméra");
    video.style.maxWidth = "100%";
    zone.appendChild(video);
    var detector = new window.BarcodeDetector({ formats: ["qr_code"] });
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } }).then(function (stream) {
      video.srcObject = stream;
      video.play();
      var tick = function () {
        detector.detect(video).then(function (codes) {
          if (codes.length) {
            // The whole signed payload: its signature is checked on submit.
            input.value = codes[0].rawValue;
            stream.getTracks().forEach(function (t) { t.stop(); });
            video.remove();
            input.focus();
          } else {
            requestAnimationFrame(tick);
          }
        }).catch(function () { requestAnimationFrame(tick); });
      };
      tick();
    }).catch(function () {
      zone.insertAdjacentHTML("beforeend", '<p class="fr-error-text">La caméra n\u2019est pas accessible : tapez le code.</p>');
    });
  });
})();
