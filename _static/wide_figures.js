// Marks the figures whose displayed width (set by the notebook output) is above 560 px, the
// least width at which a two-panel figure's text stays legible: on a narrow screen, custom.css
// keeps them at that width and lets them scroll sideways instead of shrinking.
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("div.cell_output img").forEach((img) => {
    if (parseFloat(img.style.width) > 560) img.classList.add("wide-figure");
  });
});
