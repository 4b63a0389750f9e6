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
  inputs: ["{mix,.formatter}.exs", "{config,lib,test,bench,examples}/**/*.{ex,exs}"],
  locals_without_parens: defn_locals,
  export: [locals_without_parens: defn_locals]
]
