// "Imprimer la fiche": the browser's print dialog, with the print stylesheet of passnum.css.
document.querySelectorAll("[data-print]").forEach(function (b) {
  b.hidden = false;
  b.addEventListener("click", function () { window.print(); });
});
