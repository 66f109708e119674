// Placeholder: the population view (regl-scatterplot) lands here.
function render({ el }) {
  el.textContent = "nbperceive population view: not built yet";
}
export default { render };
