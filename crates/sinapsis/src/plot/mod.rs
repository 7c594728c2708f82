//! Plots (PNG and SVG): training curves, confusion matrices, decision boundaries, scatter, activations, image grids.
