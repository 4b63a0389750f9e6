defmodule Nx.Defn do
  @moduledoc ~S"""
  Numerical definitions: functions written with `Nx` that a compiler
  takes whole.

      defmodule Shapes do
        import Nx.Defn

        defn normalize(t) do
          centered = t - Nx.mean(t)
          centered / Nx.standard_deviation(centered)
        end
      end

  A `defn` body is a subset of Elixir where `Nx.Defn.Kernel` replaces
  `Kernel`: operators work on tensors, `if`/`cond`/`while` build control
  flow that runs with the computation, and only `Nx` (with `Nx.LinAlg`,
  `Nx.Constants`, `Nx.Type`), other `defn` functions and transforms may be
  called. Calling a `defn` traces it: the body runs once with
  `Nx.Defn.Expr` tensors that record each operation, and a compiler
  (`Nx.Defn.Evaluator` by default) runs the recorded expression. Traces
  are cached per function and per type, shape and names of the arguments,
  so calling again with tensors of the same shapes does not trace again.

  ## Arguments

  Arguments are tensors, numbers, or containers of them (tuples, maps and
  structs implementing `Nx.Container`). Numbers become tensors. Lists
  (typically options, given as default arguments `opts \\ []`) and
  functions are passed as they are, and are part of the cache key.

  ## Transforms

  `deftransform/2` and `deftransformp/2` define ordinary Elixir functions
  that `defn` code may call at trace time, for example to compute with
  options or shapes:

      defn sum_rows(t, opts \\ []) do
        opts = keyword!(opts, keep_axes: false)
        Nx.sum(t, axes: [rows_axis(t)], keep_axes: opts[:keep_axes])
      end

      deftransformp rows_axis(t), do: Nx.rank(t) - 2

  ## Compilers and options

  Options come from `config :nx, :default_defn_options, [...]`, from
  `global_default_options/1` and `default_options/1`, and from the call
  (`jit/2`, `compile/3`):

    * `:compiler` - the `Nx.Defn.Compiler` (default `Nx.Defn.Evaluator`)
    * `:hooks` - a map from hook names to callbacks (see
      `Nx.Defn.Kernel.hook/3`)

  Other options are given to the compiler.
  """

  @pdict_key {__MODULE__, :default_options}
  @app_key :default_defn_options

  ## Options

  @doc """
  Returns the default options of the current process: those set with
  `default_options/1`, or else the global ones.

  ## Examples

      iex> Nx.Defn.default_options()
      []
  """
  @spec default_options() :: keyword
  def default_options, do: Process.get(@pdict_key) || Application.get_env(:nx, @app_key, [])

  @doc """
  Sets the default options of the current process and returns the
  previous ones.

  ## Examples

      iex> previous = Nx.Defn.default_options(compiler: Nx.Defn.Evaluator)
      iex> Nx.Defn.default_options()
      [compiler: Nx.Defn.Evaluator]
      iex> Nx.Defn.default_options(previous)
      [compiler: Nx.Defn.Evaluator]
  """
  @spec default_options(keyword) :: keyword
  def default_options(options) when is_list(options) do
    previous = default_options()
    Process.put(@pdict_key, options)
    previous
  end

  @doc """
  Sets the default options of every process (the application environment
  `config :nx, :default_defn_options`) and returns the previous ones.
  Processes that set their own with `default_options/1` keep them.

  ## Examples

      iex> previous = Nx.Defn.global_default_options(compiler: Nx.Defn.Evaluator)
      iex> Nx.Defn.global_default_options(previous)
      [compiler: Nx.Defn.Evaluator]
  """
  @spec global_default_options(keyword) :: keyword
  def global_default_options(options) when is_list(options) do
    previous = Application.get_env(:nx, @app_key, [])
    Application.put_env(:nx, @app_key, options)
    previous
  end

  defp prepare_options(opts) do
    opts = Keyword.merge(default_options(), opts)

    unless is_map(Keyword.get(opts, :hooks, %{})) do
      raise ArgumentError, ":hooks option must be a map, got: #{inspect(opts[:hooks])}"
    end

    opts
  end

  ## Compilation

  @doc """
  Wraps `fun` so that every call traces and compiles it (with a cache per
  argument shapes) with the given options.

  ## Options

    * `:compiler` - the compiler to use
    * `:hooks` - hook callbacks by name
    * `:on_conflict` - what to do when called while another function is
      being traced: `:raise` (the default), `:force` (compile it anyway, as
      a separate computation) or `:reuse` (call it as part of the
      computation being traced)

  ## Examples

      iex> fun = Nx.Defn.jit(fn t -> Nx.transpose(Nx.reshape(t, {2, 3})) end)
      iex> fun.(Nx.iota({6})) |> Nx.to_list()
      [[0, 3], [1, 4], [2, 5]]
  """
  @spec jit(function, keyword) :: function
  def jit(fun, opts \\ []) when is_function(fun) and is_list(opts) do
    {:arity, arity} = Function.info(fun, :arity)
    Nx.Defn.Compiler.fun(arity, &jit_apply(fun, &1, opts))
  end

  @doc """
  Traces, compiles and calls `fun` with `args`. Accepts the options of
  `jit/2`.

  ## Examples

      iex> Nx.Defn.jit_apply(&Nx.as_type(&1, :f32), [Nx.tensor([1, 2])])
      #Nx.Tensor<
        f32[2]
        [1.0, 2.0]
      >
  """
  @spec jit_apply(function, [term], keyword) :: term
  def jit_apply(fun, args, opts \\ [])
      when is_function(fun) and is_list(args) and is_list(opts) do
    {on_conflict, opts} = Keyword.pop(opts, :on_conflict, :raise)

    cond do
      Nx.Defn.Compiler.current() == nil or on_conflict == :force ->
        run_jit(fun, args, opts)

      on_conflict == :reuse ->
        apply(fun, args)

      on_conflict == :raise ->
        raise "cannot invoke JITed function when there is a JIT compilation happening"

      true ->
        raise ArgumentError,
              ":on_conflict must be :raise, :force or :reuse, got: #{inspect(on_conflict)}"
    end
  end

  defp run_jit(fun, args, opts) do
    opts = prepare_options(opts)
    {fun, params, _templates, lazies} = Nx.Defn.Compiler.to_lazy_params(fun, args)

    # A forced compilation inside a trace runs outside of it.
    outside_trace(fn ->
      [result] = Nx.Defn.Compiler.__jit__(fun, params, [lazies], opts)
      result
    end)
  end

  defp outside_trace(fun) do
    case Nx.Defn.Compiler.current() do
      nil ->
        fun.()

      compiler ->
        backend = Process.get({Nx, :default_backend})
        Process.delete(Nx.Defn.Compiler)
        Process.put({Nx, :default_backend}, Process.get(Nx.Defn.Expr.__outer_backend_key__()))

        try do
          fun.()
        after
          Process.put(Nx.Defn.Compiler, compiler)
          Process.put({Nx, :default_backend}, backend)
        end
    end
  end

  @doc """
  Compiles `fun` ahead of time for arguments like `args`: tensors or
  templates (see `Nx.template/3`) give the shapes, lists and functions
  are fixed. Returns a function taking only the tensor arguments, which
  must match the templates.

  Accepts the options of `jit/2` (except `:on_conflict`).

  ## Examples

      iex> fun = Nx.Defn.compile(&Nx.transpose(&1, &2), [Nx.template({2, 3}, :s32), [axes: [1, 0]]])
      iex> fun.(Nx.iota({2, 3})) |> Nx.shape()
      {3, 2}
      iex> fun.(Nx.iota({3, 2}))
      ** (ArgumentError) argument 1 does not match the compiled template: got s32[3][2], expected s32[2][3]
  """
  @spec compile(function, [term], keyword) :: function
  def compile(fun, args, opts \\ []) when is_function(fun) and is_list(args) and is_list(opts) do
    opts = prepare_options(opts)
    {fun, params, templates, _lazies} = Nx.Defn.Compiler.to_lazy_params(fun, args)
    compiled = Nx.Defn.Compiler.__compile__(fun, params, opts)

    Nx.Defn.Compiler.fun(length(params), fn given ->
      if Nx.Defn.Compiler.current() do
        raise "cannot invoke compiled function when there is a JIT compilation happening"
      end

      lazies = match_templates!(given, templates)
      [result] = compiled.([lazies])
      result
    end)
  end

  defp match_templates!(given, templates) do
    {lazies, rest} =
      given
      |> Enum.with_index(1)
      |> Enum.flat_map_reduce(templates, fn {arg, position}, templates ->
        {_, {templates, lazies}} =
          Nx.LazyContainer.traverse(arg, {templates, []}, fn template, lazy, {expected, acc} ->
            case expected do
              [head | tail] ->
                unless Nx.Defn.Composite.same_templates?(template, head) do
                  raise ArgumentError,
                        "argument #{position} does not match the compiled template: " <>
                          "got #{describe(template)}, expected #{describe(head)}"
                end

                {:ok, {tail, [lazy | acc]}}

              [] ->
                raise ArgumentError,
                      "more arguments were given than the function was compiled with"
            end
          end)

        {Enum.reverse(lazies), templates}
      end)

    if rest != [] do
      raise ArgumentError, "fewer arguments were given than the function was compiled with"
    end

    lazies
  end

  defp describe(%Nx.Tensor{type: type, shape: shape}),
    do: Nx.Type.to_string(type) <> Enum.map_join(Tuple.to_list(shape), &"[#{&1}]")

  @doc """
  Wraps `fun` so that calling it returns the traced expression instead of
  computing it: a debugging aid.

  ## Examples

      iex> fun = Nx.Defn.debug_expr(fn t -> Nx.transpose(Nx.as_type(t, :f32)) end)
      iex> fun.(Nx.iota({2, 3}))
      #Nx.Tensor<
        f32[3][2]
      \s\s
        Nx.Defn.Expr
        parameter a:0             s32[2][3]
        b = as_type a             f32[2][3]
        c = transpose b, [1, 0]   f32[3][2]
      >
  """
  @spec debug_expr(function, keyword) :: function
  def debug_expr(fun, opts \\ []) when is_function(fun) and is_list(opts) do
    {:arity, arity} = Function.info(fun, :arity)
    Nx.Defn.Compiler.fun(arity, &debug_expr_apply(fun, &1, opts))
  end

  @doc """
  Traces `fun` with `args` and returns its expression. See `debug_expr/2`.

  ## Examples

      iex> expr = Nx.Defn.debug_expr_apply(&Nx.reshape(&1, {3, 2}), [Nx.iota({6})])
      iex> {expr.shape, expr.data.op}
      {{3, 2}, :reshape}
  """
  @spec debug_expr_apply(function, [term], keyword) :: term
  def debug_expr_apply(fun, args, opts \\ []) when is_function(fun) and is_list(args) do
    opts = opts |> prepare_options() |> Keyword.put(:compiler, Nx.Defn.Debug)
    {fun, params, _templates, lazies} = Nx.Defn.Compiler.to_lazy_params(fun, args)
    [result] = Nx.Defn.Compiler.__jit__(fun, params, [lazies], opts)
    result
  end

  ## Gradients

  @doc """
  Returns a function of one argument that computes the gradient of `fun`
  there. See `grad/2`.

  ## Examples

      iex> fun = Nx.Defn.grad(fn x -> Nx.sum(Nx.multiply(x, x)) end)
      iex> fun.(Nx.tensor([1.0, -2.0, 3.0]))
      #Nx.Tensor<
        f32[3]
        [2.0, -4.0, 6.0]
      >
  """
  @spec grad((term -> Nx.Tensor.t())) :: (term -> term)
  def grad(fun) when is_function(fun, 1), do: fn value -> grad(value, fun) end

  @doc """
  The gradient of `fun` with respect to `var_or_vars`: a tensor, or any
  container of tensors (tuples, maps, `Nx.Container` structs), which
  `fun` receives as its only argument. The gradient has the same
  structure, with one tensor of the same shape per tensor (floating point,
  also for integer inputs).

  `fun` should return a scalar. When it returns a larger tensor, the
  gradient is that of the sum of its elements (the extra dimensions are
  treated as batch dimensions).

  It works both inside `defn`, where the gradient becomes part of the
  expression being built, and outside, where `fun` is traced and compiled
  with the default options (see `jit/2`). Gradients of gradients work.

  Tensors that `fun` captures from its environment, instead of reading
  them from its argument, are constants for the gradient, as are values
  wrapped in `Nx.Defn.Kernel.stop_grad/1`. Operations whose result is
  piecewise constant (comparisons, rounding, `argmax`, bitwise and logical
  operations, ...) have a zero gradient; `Nx.quotient/2`, `Nx.reduce/4`
  and `Nx.window_reduce/5` have none and raise (use
  `Nx.Defn.Kernel.custom_grad/3` to give them one).

  ## Conventions at non-differentiable points

    * `Nx.max/2`, `Nx.min/2`: when both sides are equal, each gets half
    * `Nx.reduce_max/2`, `Nx.reduce_min/2` (and the cumulative versions):
      tied elements share the gradient equally
    * `Nx.abs/1` at zero: the gradient of the identity
    * `Nx.clip/3`: the operand gets the gradient strictly between the
      bounds, each bound where the operand is strictly beyond it

  ## Examples

      iex> Nx.Defn.grad(Nx.tensor(0.0), &Nx.sin/1)
      #Nx.Tensor<
        f32
        1.0
      >

  With a container of variables, the gradient has the same structure:

      iex> f = fn {a, b} -> Nx.multiply(Nx.multiply(a, a), b) end
      iex> {da, db} = Nx.Defn.grad({Nx.tensor(2.0), Nx.tensor(3.0)}, f)
      iex> {Nx.to_number(da), Nx.to_number(db)}
      {12.0, 4.0}

  Inside `defn`, where `grad/2` is imported with `Nx.Defn`:

      defn tanh_grad(t), do: grad(t, &Nx.tanh/1)

  ## Error cases

      iex> Nx.Defn.grad(Nx.tensor(3), &Nx.quotient(&1, 2))
      ** (ArgumentError) cannot compute the gradient of Nx.quotient/2 (integer division is piecewise constant); for a floor division of floats use Nx.floor(Nx.divide(a, b)), whose gradient is zero
  """
  @spec grad(term, (term -> Nx.Tensor.t())) :: term
  def grad(var_or_vars, fun) when is_function(fun, 1) do
    {_value, grad} = value_and_grad(var_or_vars, fun)
    grad
  end

  @doc """
  Returns a function of one argument that computes `{value, gradient}` of
  `fun` there. See `value_and_grad/3`.

  ## Examples

      iex> fun = Nx.Defn.value_and_grad(&Nx.exp/1)
      iex> {value, grad} = fun.(Nx.tensor(0.0))
      iex> {Nx.to_number(value), Nx.to_number(grad)}
      {1.0, 1.0}
  """
  @spec value_and_grad((term -> Nx.Tensor.t())) :: (term -> {term, term})
  def value_and_grad(fun) when is_function(fun, 1), do: fn value -> value_and_grad(value, fun) end

  @doc """
  Returns `{value, gradient}`: the value of `fun` at `var_or_vars` and
  its gradient there, computed together (see `grad/2`).

  `transform` is applied to the value to get the scalar to differentiate,
  while the whole value is returned: a function can return its loss along
  with other results (predictions, metrics) and be differentiated on the
  loss alone, in one pass.

  ## Examples

      iex> {value, grad} = Nx.Defn.value_and_grad(Nx.tensor([1.0, 2.0]), &Nx.sum(Nx.pow(&1, 3)))
      iex> {Nx.to_number(value), Nx.to_list(grad)}
      {9.0, [3.0, 12.0]}

  Differentiating one element of a tuple:

      iex> fun = fn x -> {Nx.multiply(x, 10), Nx.sum(Nx.multiply(x, x))} end
      iex> {{scaled, loss}, grad} = Nx.Defn.value_and_grad(Nx.tensor([1.0, 2.0]), fun, &elem(&1, 1))
      iex> {Nx.to_list(scaled), Nx.to_number(loss), Nx.to_list(grad)}
      {[10.0, 20.0], 5.0, [2.0, 4.0]}
  """
  @spec value_and_grad(term, (term -> term), (term -> Nx.Tensor.t())) :: {term, term}
  def value_and_grad(var_or_vars, fun, transform \\ & &1)
      when is_function(fun, 1) and is_function(transform, 1) do
    jit_apply(&Nx.Defn.Grad.transform(&1, fun, transform), [var_or_vars], on_conflict: :reuse)
  end

  ## Definitions

  @doc """
  Defines a public numerical function. See the module documentation.
  """
  defmacro defn(call, do: block), do: define(:def, call, block, __CALLER__)

  @doc """
  Defines a private numerical function.
  """
  defmacro defnp(call, do: block), do: define(:defp, call, block, __CALLER__)

  @doc """
  Defines a public transform: an Elixir function that `defn` code calls at
  trace time. Without a body, declares the head of a multi-clause
  transform (for default arguments).
  """
  defmacro deftransform(call, clauses \\ nil),
    do: define_transform(:def, call, clauses, __CALLER__)

  @doc """
  Defines a private transform. See `deftransform/2`.
  """
  defmacro deftransformp(call, clauses \\ nil),
    do: define_transform(:defp, call, clauses, __CALLER__)

  defp define(kind, call, block, env) do
    if match?({:when, _, _}, call) do
      raise CompileError,
        file: env.file,
        line: env.line,
        description: "guards are not supported by #{kind}n"
    end

    {name, args} = decompose!(kind, call, env)
    register = register_ast(kind, name, args, :numerical)

    quote do
      unquote(register)

      Kernel.unquote(kind)(unquote(call)) do
        use Nx.Defn.Kernel
        unquote(block)
      end
    end
  end

  defp define_transform(kind, call, clauses, env) do
    {name, args} = decompose!(kind, call, env)
    register = register_ast(kind, name, args, :transform)

    definition =
      case clauses do
        nil -> quote do: Kernel.unquote(kind)(unquote(call))
        clauses -> quote do: Kernel.unquote(kind)(unquote(call), unquote(clauses))
      end

    quote do
      unquote(register)
      unquote(definition)
    end
  end

  defp register_ast(kind, name, args, type) do
    defaults =
      for {{:\\, _, [_, default]}, i} <- Enum.with_index(args), into: %{}, do: {i, default}

    quote do
      Nx.Defn.Definitions.register(
        __MODULE__,
        unquote(kind),
        unquote(name),
        unquote(length(args)),
        unquote(type),
        unquote(Macro.escape(defaults))
      )
    end
  end

  defp decompose!(kind, {:when, _, [call, _guards]}, env), do: decompose!(kind, call, env)

  defp decompose!(kind, call, env) do
    case Macro.decompose_call(call) do
      {name, args} ->
        {name, args}

      :error ->
        raise CompileError,
          file: env.file,
          line: env.line,
          description: "first argument of #{kind}n must be a call, got: #{Macro.to_string(call)}"
    end
  end
end
