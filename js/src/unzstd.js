// The zstd decoder of a saved report (nbperceive.report): the page's libraries (the widgets
// manager, bqplot...) travel zstd-compressed, whose long window finds the code their bundles
// repeat (gzip's 32 KB window does not: 0.69 -> 0.38 MB for the manager). fzstd is plain JS
// (no wasm, nothing fetched): the loader calls window.nbpUnzstd(bytes) -> Uint8Array.
import { decompress } from "fzstd";

window.nbpUnzstd = (bytes) => decompress(bytes);
