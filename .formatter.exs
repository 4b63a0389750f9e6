# Used by "mix format"; the export lets projects that depend on :nx format defn code the same way.
defn_locals = [
  defn: 2,
  defnp: 2,
  deftransform: 1,
  deftransform: 2,
  deftransformp: 1,
  deftransformp: 2
]

[
  # test/fixtures holds generated data, written by its generator scripts
  inputs: [
    "{mix,.formatter}.exs",
    "{config,lib,bench,examples}/**/*.{ex,exs}",
    "test/*.{ex,exs}",
    "test/{nx,support}/**/*.{ex,exs}"
  ],
  locals_without_parens: defn_locals,
  export: [locals_without_parens: defn_locals]
]
