// Copy buttons. A <button data-copy="ID" hidden> copies the value (an input)
// or the text of the element with that id. Without script or the Clipboard
// API the buttons stay hidden and the value is still there to select.
document.addEventListener("DOMContentLoaded", function () {
  if (!navigator.clipboard || !window.isSecureContext) return;
  document.querySelectorAll("button[data-copy]").forEach(function (b) {
    var label = b.textContent;
    b.hidden = false;
    b.addEventListener("click", function () {
      var el = document.getElementById(b.getAttribute("data-copy"));
      if (!el) return;
      var v = el.tagName === "INPUT" || el.tagName === "TEXTAREA" ? el.value : el.textContent;
      navigator.clipboard.writeText(v.trim()).then(function () { say(b, "Copied", label); }, function () { say(b, "Copy failed", label); });
    });
  });
  function say(b, text, label) {
    b.textContent = text;
    setTimeout(function () { b.textContent = label; }, 1500);
  }
});
