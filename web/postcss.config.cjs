// Mantine's PostCSS preset (rem/em functions, light/dark mixins, breakpoints).
module.exports = {
  plugins: {
    'postcss-preset-mantine': {},
  },
};
