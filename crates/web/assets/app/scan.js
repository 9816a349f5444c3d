// Scan page improvements; the page works without them.
// 1. Scan a QR code with the camera where the browser has BarcodeDetector.
// 2. Disable the submit button once pressed (the idempotency key already makes a double
//    submit harmless; this only avoids a confusing second answer).
(function () {
  var form = document.getElementById("scan-form");
  if (!form) return;
  form.addEventListener("submit", function () {
    var b = form.querySelector("button[type=submit]");
    if (b) { b.disabled = true; b.textContent = "Vérification…"; }
  });
  if (!("BarcodeDetector" in window) || !navigator.mediaDevices) return;
  var input = document.getElementById("code");
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
            // The QR code carries the cheque code, possibly followed by a signature.
            input.value = codes[0].rawValue.split(/[.:]/)[0];
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
