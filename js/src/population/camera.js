// Where regl-scatterplot's camera puts things on screen, for what the view draws over the
// WebGL canvas in the DOM (contours, cluster labels, the hover ring) and for finding the
// point under the pointer without asking regl-scatterplot (whose own hover redraws every
// point).

/**
 * The affine map from data coordinates (the points' clip space, y up) to CSS px in the plot,
 * as regl-scatterplot's getScreenPosition computes it: [a, d, e, f] with X = a·x + e,
 * Y = d·y + f. `view` is the camera's 4×4 matrix (column-major), `aspectRatio` the data's.
 */
export function screenTransform(view, width, height, aspectRatio) {
  const viewAspect = width / height;
  const sx = aspectRatio / viewAspect;
  return [
    (width / 2) * view[0] * sx,
    (-height / 2) * view[5],
    (width / 2) * (1 + view[12] / viewAspect),
    height * (0.5 - view[13] / 2),
  ];
}

/** How much regl-scatterplot enlarges points at the camera's zoom `view[0]` (its default
 * "asinh" point scale, in CSS px: zoomed in, points grow slower than the view). */
export function pointScale(view, minScale = 0.1) {
  const s = view[0];
  return s > 1 ? Math.asinh(s) / Math.asinh(1) : Math.max(minScale, s);
}
