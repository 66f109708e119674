// Placeholder: the inspector view lands here.
function render({ el }) {
  el.textContent = "nbperceive inspector view: not built yet";
}
export default { render };
