defmodule Nx.Defn.Compiler do
  @moduledoc """
  The behaviour of `defn` compilers, and the runtime that calls them.

  A compiler receives a function that builds the expression of a numerical
  definition (by tracing it with `Nx.Defn.Expr` as the default backend) and
  the arguments to run it with. `Nx.Defn.Evaluator` is the reference
  compiler; set another with the `:compiler` option of `Nx.Defn.jit/2` or
  `config :nx, :default_defn_options, compiler: ...`.

  Arguments reach compilers flattened: each argument container (tensors,
  numbers, tuples, maps, `Nx.Container` structs) becomes a list of its
  tensors in a fixed order (see `Nx.LazyContainer`), each given as a
  zero-arity function that returns the tensor, so compilers only
  materialize what they use. Lists (options) and functions given as
  arguments are not flattened: they are part of the function the compiler
  traces, and so of its cache key.
  """

  @doc """
  Compiles and runs a function.

  `key` identifies the function for caching (it does not include the
  arguments' shapes). `vars` are the arguments as parameter expressions, in
  their containers: call `fun.(vars)` to trace the function and get its
  result expression (a container of expression tensors). `args_list` is a
  list of argument lists to run the compiled function with, each a flat
  list of zero-arity functions returning tensors that match `vars`.
  Returns one result per argument list.
  """
  @callback __jit__(
              key :: term,
              vars :: [Nx.Container.t()],
              fun :: ([Nx.Container.t()] -> Nx.Container.t()),
              args_list :: [[(() -> Nx.Tensor.t())]],
              opts :: keyword
            ) :: [Nx.Container.t()]

  @doc """
  Compiles a function ahead of its invocations.

  Receives the same `key`, `vars` and `fun` as `c:__jit__/5` and returns a
  function that takes a list of flat argument lists and returns the list
  of results.
  """
  @callback __compile__(
              key :: term,
              vars :: [Nx.Container.t()],
              fun :: ([Nx.Container.t()] -> Nx.Container.t()),
              opts :: keyword
            ) :: ([[(() -> Nx.Tensor.t())]] -> [Nx.Container.t()])

  @doc """
  Receives compiler options and returns one list of options per partition
  (device) the compiler would run on, for example to start one `Nx.Serving`
  worker per device.
  """
  @callback __partitions_options__(keyword) :: [keyword]

  @doc """
  Receives compiler options and returns the backend (and its options)
  whose tensors match what the compiler returns.
  """
  @callback __to_backend__(keyword) :: {module, term}

  @compiler_key __MODULE__
  @backend_key {Nx, :default_backend}

  @doc """
  Returns the compiler of the `defn` being traced in this process, or `nil`
  outside of `defn`.

  ## Examples

      iex> Nx.Defn.Compiler.current()
      nil
  """
  @spec current() :: module | nil
  def current, do: Process.get(@compiler_key)

  @doc false
  def __to_backend__(opts) do
    {compiler, opts} = Keyword.pop(opts, :compiler, Nx.Defn.Evaluator)
    ensure_compiler!(compiler, :__to_backend__, 1)
    compiler.__to_backend__(opts)
  end

  @doc false
  def __jit__(fun, params, args_list, opts) do
    {compiler, opts} = Keyword.pop(opts, :compiler, Nx.Defn.Evaluator)
    ensure_compiler!(compiler, :__jit__, 5)
    compiler.__jit__(fun, params, &trace(&1, fun, compiler), args_list, opts)
  end

  @doc false
  def __compile__(fun, params, opts) do
    {compiler, opts} = Keyword.pop(opts, :compiler, Nx.Defn.Evaluator)
    ensure_compiler!(compiler, :__compile__, 4)
    compiler.__compile__(fun, params, &trace(&1, fun, compiler), opts)
  end

  defp ensure_compiler!(compiler, name, arity) do
    unless is_atom(compiler) and Code.ensure_loaded?(compiler) and
             function_exported?(compiler, name, arity) do
      raise ArgumentError,
            "the compiler callback #{name}/#{arity} is missing: " <>
              "#{inspect(compiler)} is not an Nx.Defn.Compiler"
    end
  end

  # Runs `fun` with Nx.Defn.Expr as the default backend, so that every
  # tensor it creates and every Nx call it makes records an expression.
  # The previous default backend is kept for the literal tensors (and
  # constant folding) of the trace.
  defp trace(args, fun, compiler) do
    outer = Nx.default_backend()
    previous_backend = Process.put(@backend_key, {Nx.Defn.Expr, []})
    previous_outer = Process.put(Nx.Defn.Expr.__outer_backend_key__(), outer)
    previous_compiler = Process.put(@compiler_key, compiler)

    try do
      fun
      |> apply(args)
      |> Nx.Defn.Composite.traverse(&Nx.Defn.Expr.tensor/1)
    after
      restore(@backend_key, previous_backend)
      restore(Nx.Defn.Expr.__outer_backend_key__(), previous_outer)
      restore(@compiler_key, previous_compiler)
    end
  end

  defp restore(key, nil), do: Process.delete(key)
  defp restore(key, value), do: Process.put(key, value)

  ## Arguments

  @doc false
  # Splits the arguments of a jit call: lists and functions are kept in a new
  # function (and so in the cache key); every other argument becomes
  # parameters. Returns {fun, params, templates, lazy_tensors}.
  def to_lazy_params(fun, args) do
    {params, kept, {templates, lazies, _}} =
      Enum.reduce(args, {[], [], {[], [], 0}}, fn
        arg, {params, kept, acc} when is_list(arg) or is_function(arg) ->
          {params, [{:kept, arg} | kept], acc}

        arg, {params, kept, acc}
        when is_tuple(arg) and tuple_size(arg) > 0 and is_function(elem(arg, 0)) ->
          {params, [{:kept, arg} | kept], acc}

        arg, {params, kept, acc} ->
          {param, acc} =
            Nx.LazyContainer.traverse(arg, acc, fn template, lazy, {templates, lazies, i} ->
              param = Nx.Defn.Expr.parameter(template, :root, i)
              {param, {[template | templates], [lazy | lazies], i + 1}}
            end)

          {[param | params], [:param | kept], acc}
      end)

    params = Enum.reverse(params)
    templates = Enum.reverse(templates)
    lazies = Enum.reverse(lazies)

    if Enum.all?(kept, &(&1 == :param)) do
      {fun, params, templates, lazies}
    else
      layout = Enum.reverse(kept)
      wrapped = fun(length(params), &apply(fun, merge_kept(layout, &1)))
      {wrapped, params, templates, lazies}
    end
  end

  defp merge_kept([:param | layout], [param | params]), do: [param | merge_kept(layout, params)]
  defp merge_kept([{:kept, arg} | layout], params), do: [arg | merge_kept(layout, params)]
  defp merge_kept([], []), do: []

  @doc false
  # Builds an anonymous function of the given arity that calls `callback`
  # with the list of its arguments.
  def fun(arity, callback)

  for arity <- 0..32 do
    args = Macro.generate_arguments(arity, __MODULE__)

    def fun(unquote(arity), callback),
      do: fn unquote_splicing(args) -> callback.(unquote(args)) end
  end

  ## Calls made by compiled defn code

  @doc false
  def __case__(arg) when is_tuple(arg) do
    arg |> Tuple.to_list() |> Enum.each(&__case__/1)
    arg
  end

  def __case__(arg) when is_number(arg) or is_atom(arg) or is_struct(arg), do: arg

  def __case__(arg) do
    raise ArgumentError,
          "case/2 inside defn only accepts tuples, atoms, numbers and structs, got: " <>
            "#{inspect(arg)}. Use a transform (deftransform/2) to match other values"
  end

  @doc false
  def __remote__(module, function, defn_name, args) do
    apply(module, defn_name, args)
  rescue
    error in UndefinedFunctionError ->
      arity = length(args)

      if error.module == module and error.function == defn_name do
        if function_exported?(module, function, arity) do
          hint =
            if module == IO,
              do: ". Use print_value/2 to print a tensor's value, or print_expr/2 its expression",
              else: ""

          raise ArgumentError,
                "cannot invoke #{Exception.format_mfa(module, function, arity)} inside defn " <>
                  "because it was not defined with defn" <> hint
        else
          raise UndefinedFunctionError, module: module, function: function, arity: arity
        end
      else
        reraise error, __STACKTRACE__
      end
  end
end
