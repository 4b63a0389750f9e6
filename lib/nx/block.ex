defmodule Nx.Block do
  # Runs composite operations (most of Nx.LinAlg, fft2, rfft, ...) through the backend of
  # their tensors, in the order Nx.Backend documents:
  #
  #   1. `c:Nx.Backend.block/4`, when the backend implements it (`:default` means "use the
  #      default implementation");
  #   2. the optional callback named like the operation (`qr/3`, `cholesky/2`, ...), called
  #      with the output template followed by `args`;
  #   3. the older `c:Nx.Backend.optional/3`;
  #   4. the default implementation, `default` applied to `args`.
  @moduledoc false

  alias Nx.Tensor, as: T

  @doc false
  def run(name, out, args, default) when is_atom(name) and is_function(default, length(args)) do
    backend = backend(args)
    arity = length(args) + 1

    result =
      cond do
        function_exported?(backend, :block, 4) ->
          backend.block(name, out, args, default)

        function_exported?(backend, name, arity) ->
          apply(backend, name, [out | args])

        function_exported?(backend, :optional, 3) ->
          backend.optional(name, args, default)

        true ->
          :default
      end

    case result do
      :default -> apply(default, args)
      result -> result
    end
  end

  # Defaults that have no implementation in Nx operations: they raise on every backend that
  # lacks the operation, and tracing records their results as opaque values for the backend.
  @opaque_defaults [&Nx.LinAlg.Defaults.eigh/2, &Nx.LinAlg.Defaults.svd/2]

  @doc false
  def opaque?(default), do: default in @opaque_defaults

  # The backend of the tensors among `args`: Nx.Defn.Expr wins (tracing), then any backend
  # other than the template one.
  @doc false
  def backend(args) do
    backends = for %T{data: %backend{}} <- args, uniq: true, do: backend
    backends = Enum.each(backends, &Code.ensure_loaded/1) && backends

    cond do
      Nx.Defn.Expr in backends -> Nx.Defn.Expr
      match?([_ | _], backends -- [Nx.TemplateBackend]) -> hd(backends -- [Nx.TemplateBackend])
      true -> Nx.TemplateBackend
    end
  end
end
