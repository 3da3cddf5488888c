//! Charts scripts ask for with `chart(…)`: bar, stacked bar and line,
//! drawn by plotters as SVG. plotters over charming: it renders in-process
//! to an SVG string with no JavaScript runtime, and keeps labels as SVG
//! `<text>`, so a page shows them in the reader's CJK font and a test finds
//! them in the DOM.
