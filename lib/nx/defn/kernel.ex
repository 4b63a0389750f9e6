defmodule Nx.Defn.Kernel do
  @moduledoc """
  What `defn` bodies import instead of Elixir's `Kernel`.

  Inside `defn`, operators work on tensors (and keep Elixir's meaning when
  both sides are numbers), `if` and `cond` build conditional expressions,
  `while` builds loops, and a few helpers handle options, hooks and
  gradients. Calls to `Nx`, `Nx.LinAlg`, `Nx.Constants`, `Nx.Type`, other
  `defn` functions and transforms (`Nx.Defn.deftransform/2`) are allowed;
  everything else must go through a transform.

  Truth inside `defn`: `0` is false and every other number is true;
  comparisons and logical operators return `u8` tensors of `0` and `1`.
  `true` and `false` are accepted where a predicate is expected.

  The special forms `alias`, `import`, `require`, `case` and `cond` work as
  in Elixir, with these limits: `case` matches at trace time on tuples,
  atoms, numbers and structs (for example on `Nx.shape(t)`), never on
  tensor values, and its guards may only use the pattern's variables;
  `cond` clauses must be scalar predicates and the last one must always
  be true.
  """

  # Every operator and macro this module redefines is called qualified here.
  import Kernel,
    except: [
      +: 1,
      -: 1,
      +: 2,
      -: 2,
      *: 2,
      /: 2,
      **: 2,
      div: 2,
      rem: 2,
      max: 2,
      min: 2,
      and: 2,
      or: 2,
      not: 1,
      ==: 2,
      !=: 2,
      <: 2,
      >: 2,
      <=: 2,
      >=: 2,
      ..: 0,
      ..: 2,
      "..//": 3,
      |>: 2,
      if: 2,
      elem: 2,
      raise: 1,
      raise: 2,
      inspect: 2,
      tap: 2,
      then: 2
    ]

  ## Arithmetic

  @doc """
  Unary plus: returns its argument.

  ## Examples

      iex> Nx.Defn.Kernel.+(3)
      3
  """
  @spec +Nx.t() :: Nx.t()
  def +tensor, do: tensor

  @doc """
  Negation: `Nx.negate/1` on tensors.

  ## Examples

      iex> Nx.Defn.Kernel.-(3)
      -3
  """
  @spec -Nx.t() :: Nx.t()
  def -tensor when is_number(tensor), do: Kernel.-(tensor)
  def -tensor, do: Nx.negate(tensor)

  @number_ops [
    +: {:add, "Addition"},
    -: {:subtract, "Subtraction"},
    *: {:multiply, "Multiplication"},
    /: {:divide, "Division"},
    **: {:pow, "Power"},
    div: {:quotient, "Integer division"},
    rem: {:remainder, "Remainder"},
    max: {:max, "Element-wise maximum"},
    min: {:min, "Element-wise minimum"}
  ]

  for {op, {nx, title}} <- @number_ops do
    {example, result} =
      case op do
        :/ -> {"7, 2", "3.5"}
        :** -> {"2, 10", "1024"}
        :div -> {"7, 2", "3"}
        :rem -> {"7, 2", "1"}
        :max -> {"7, 2", "7"}
        :min -> {"7, 2", "2"}
        :+ -> {"7, 2", "9"}
        :- -> {"7, 2", "5"}
        :* -> {"7, 2", "14"}
      end

    @doc """
    #{title}: `Nx.#{nx}/2` on tensors (with broadcasting), Elixir's own
    operation when both arguments are numbers.

    ## Examples

        iex> Nx.Defn.Kernel.#{op}(#{example})
        #{result}
    """
    @spec unquote(op)(Nx.t(), Nx.t()) :: Nx.t()
    def unquote(op)(left, right) when Kernel.and(is_number(left), is_number(right)),
      do: Kernel.unquote(op)(left, right)

    def unquote(op)(left, right), do: Nx.unquote(nx)(left, right)
  end

  ## Bitwise

  for {op, nx, result} <- [
        {:&&&, :bitwise_and, 2},
        {:|||, :bitwise_or, 7},
        {:<<<, :left_shift, 48},
        {:>>>, :right_shift, 0}
      ] do
    @doc """
    Bitwise operator: `Nx.#{nx}/2` on integer tensors, `Bitwise` on integers.

    ## Examples

        iex> Nx.Defn.Kernel.#{op}(6, 3)
        #{result}
    """
    @spec unquote(op)(Nx.t(), Nx.t()) :: Nx.t()
    def unquote(op)(left, right) when Kernel.and(is_integer(left), is_integer(right)),
      do: Bitwise.unquote(op)(left, right)

    def unquote(op)(left, right), do: Nx.unquote(nx)(left, right)
  end

  @doc """
  Bitwise not: `Nx.bitwise_not/1` on integer tensors.

  ## Examples

      iex> Nx.Defn.Kernel.~~~(5)
      -6
  """
  @spec ~~~Nx.t() :: Nx.t()
  def ~~~tensor when is_integer(tensor), do: Bitwise.~~~(tensor)
  def ~~~tensor, do: Nx.bitwise_not(tensor)

  ## Comparison and logic: macros, so they also work in case guards

  @comparisons [
    ==: {:__equal__, :equal, "Equal to"},
    !=: {:__not_equal__, :not_equal, "Not equal to"},
    <: {:__less__, :less, "Less than"},
    >: {:__greater__, :greater, "Greater than"},
    <=: {:__less_equal__, :less_equal, "Less than or equal to"},
    >=: {:__greater_equal__, :greater_equal, "Greater than or equal to"}
  ]

  for {op, {fun, nx, title}} <- @comparisons do
    @doc """
    #{title}: `Nx.#{nx}/2` on tensors, returning a `u8` tensor of 0s and 1s.
    Numbers and booleans are compared at trace time. In `case` guards
    inside `defn` it is Elixir's operator.

    ## Examples

        iex> Nx.Defn.Kernel.#{fun}(1, 2) |> Nx.to_number()
        #{Kernel.if(Kernel.in(op, [:!=, :<, :<=]), do: 1, else: 0)}
    """
    defmacro unquote(op)(left, right) do
      guard_or_call(__CALLER__, unquote(op), unquote(fun), [left, right])
    end

    @doc false
    def unquote(fun)(left, right) do
      case {to_number(left), to_number(right)} do
        {l, r} when Kernel.and(is_number(l), is_number(r)) -> to_u8(Kernel.unquote(op)(l, r))
        {l, r} -> Nx.unquote(nx)(l, r)
      end
    end
  end

  @doc """
  Logical and: `Nx.logical_and/2` on tensors (no short-circuit). Zero is
  false, every other number is true.

  ## Examples

      iex> Nx.Defn.Kernel.__and__(1, 0) |> Nx.to_number()
      0
  """
  defmacro left and right, do: guard_or_call(__CALLER__, :and, :__and__, [left, right])

  @doc false
  def __and__(left, right) do
    case {to_number(left), to_number(right)} do
      {l, r} when Kernel.and(is_number(l), is_number(r)) ->
        to_u8(Kernel.and(Kernel.!=(l, 0), Kernel.!=(r, 0)))

      {l, r} ->
        Nx.logical_and(l, r)
    end
  end

  @doc """
  Logical or: `Nx.logical_or/2` on tensors (no short-circuit).

  ## Examples

      iex> Nx.Defn.Kernel.__or__(1, 0) |> Nx.to_number()
      1
  """
  defmacro left or right, do: guard_or_call(__CALLER__, :or, :__or__, [left, right])

  @doc false
  def __or__(left, right) do
    case {to_number(left), to_number(right)} do
      {l, r} when Kernel.and(is_number(l), is_number(r)) ->
        to_u8(Kernel.or(Kernel.!=(l, 0), Kernel.!=(r, 0)))

      {l, r} ->
        Nx.logical_or(l, r)
    end
  end

  @doc """
  Logical not: `Nx.logical_not/1` on tensors.

  ## Examples

      iex> Nx.Defn.Kernel.__not__(0) |> Nx.to_number()
      1
  """
  defmacro not value, do: guard_or_call(__CALLER__, :not, :__not__, [value])

  @doc false
  def __not__(value) do
    case to_number(value) do
      n when is_number(n) -> to_u8(Kernel.==(n, 0))
      tensor -> Nx.logical_not(tensor)
    end
  end

  defp guard_or_call(caller, op, fun, args) do
    Kernel.if Kernel.in(caller.context, [:guard, :match]) do
      quote do: Elixir.Kernel.unquote(op)(unquote_splicing(args))
    else
      quote do: Nx.Defn.Kernel.unquote(fun)(unquote_splicing(args))
    end
  end

  defp to_number(true), do: 1
  defp to_number(false), do: 0
  defp to_number(other), do: other

  defp to_u8(boolean), do: Nx.tensor(Kernel.if(boolean, do: 1, else: 0), type: :u8)

  ## Ranges and pipes

  @doc """
  The full-slice range `0..-1//1`: empty when enumerated, the whole axis
  when used to slice.

  ## Examples

      iex> apply(Nx.Defn.Kernel, :.., [])
      0..-1//1
  """
  @spec (..) :: Range.t()
  def (..), do: Range.new(0, -1, 1)

  @doc """
  Builds a range (step 1 or -1, inferred from the ends as Elixir does).

  ## Examples

      iex> apply(Nx.Defn.Kernel, :.., [1, 3])
      1..3
  """
  @spec integer..integer :: Range.t()
  def first..last, do: Range.new(first, last)

  @doc """
  Builds a range with a step.

  ## Examples

      iex> apply(Nx.Defn.Kernel, :..//, [1, 5, 2]) |> Enum.to_list()
      [1, 3, 5]
  """
  @spec integer..integer//integer :: Range.t()
  def first..last//step, do: Range.new(first, last, step)

  @doc """
  The pipe operator, as `Kernel.|>/2`.
  """
  defmacro left |> right do
    Enum.reduce(Macro.unpipe(right), left, fn {call, position}, acc ->
      Macro.pipe(acc, call, position)
    end)
  end

  @doc """
  Calls `fun` with `value` for its side effects and returns `value`.
  """
  defmacro tap(value, fun) do
    quote bind_quoted: [value: value, fun: fun] do
      _ = fun.(value)
      value
    end
  end

  @doc """
  Calls `fun` with `value` and returns the result.
  """
  defmacro then(value, fun) do
    quote do: unquote(fun).(unquote(value))
  end

  @doc """
  Returns the element at the zero-based `index` of a tuple.

  ## Examples

      iex> Nx.Defn.Kernel.elem({:a, :b}, 1)
      :b
  """
  @spec elem(tuple, non_neg_integer) :: term
  def elem(tuple, index) when Kernel.and(is_tuple(tuple), is_integer(index)),
    do: Kernel.elem(tuple, index)

  @doc """
  Raises `message` (a string) as a `RuntimeError` while the expression is
  built. Inside `if`/`cond`, every branch is built, so a `raise` in any
  branch always raises: use it for conditions known at trace time (shapes,
  types, options).
  """
  defmacro raise(message) do
    quote do: Elixir.Kernel.raise(unquote(message))
  end

  @doc """
  Raises `exception` with `attributes` while the expression is built. See
  `raise/1`.
  """
  defmacro raise(exception, attributes) do
    quote do: Elixir.Kernel.raise(unquote(exception), unquote(attributes))
  end

  @doc """
  Converts a term to a string, as `Kernel.inspect/2` (for error messages;
  use `print_expr/2` or `print_value/2` to debug).

  ## Examples

      iex> Nx.Defn.Kernel.inspect({2, 3})
      "{2, 3}"
  """
  @spec inspect(term, keyword) :: String.t()
  def inspect(term, opts \\ []), do: Kernel.inspect(term, opts)

  ## Conditionals and loops

  @doc """
  Chooses between two expressions on a scalar predicate (zero is false).

  The branches are broadcast to a common shape and converted to a common
  type; without `else`, the other branch is `0`. Both branches are always
  built; when the predicate is known while tracing (a number or a
  boolean) only the chosen branch is used.

      if Nx.any(x < 0) do
        -x
      else
        x
      end
  """
  defmacro if(pred, clauses) do
    {on_true, on_false} =
      case clauses do
        [do: on_true] ->
          {on_true, 0}

        [do: on_true, else: on_false] ->
          {on_true, on_false}

        other ->
          Kernel.raise(
            ArgumentError,
            Kernel.<>(
              "expected the second argument of \"if\" to be a do/else block, got: ",
              Macro.to_string(other)
            )
          )
      end

    quote do
      cond do
        unquote(pred) -> unquote(on_true)
        true -> unquote(on_false)
      end
    end
  end

  @doc """
  A loop over a state, as long as `condition` holds.

      while {x = 0, limit}, x < limit do
        {x + 1, limit}
      end

  The initial state is a variable, a variable assignment, or a tuple of
  them; the body returns the next state, which must have the same types
  and shapes; the loop returns the last state. The body only sees the
  state: pass every value it needs in the state.

  With a generator, the loop runs once per element of a range or per
  entry of a tensor's first axis:

      while acc = 0, i <- tensor do
        acc + i
      end

  Generators accept `unroll: true` (write out every iteration) or
  `unroll: n` (n iterations per loop step).
  """
  defmacro while(initial, condition_or_generator, opts \\ [], do_block)

  defmacro while(initial, {:<-, _, [var, generator]}, opts, do: body) do
    {pattern, bindings} = while_state(initial, [])
    build_while({var, pattern}, pattern, bindings, {:while, generator}, true, body, opts)
  end

  defmacro while(initial, condition, opts, do: body) do
    {pattern, bindings} = while_state(initial, [])
    build_while(pattern, pattern, bindings, :none, condition, body, opts)
  end

  defmacro while(_initial, _condition, _opts, other) do
    Kernel.raise(
      ArgumentError,
      "expected the last argument of \"while\" to be a do-block, got: #{Macro.to_string(other)}"
    )
  end

  defp build_while(fn_pattern, initial, bindings, generator, condition, body, opts) do
    {vars, values} = Enum.unzip(Enum.reverse(bindings))

    quote do
      {unquote_splicing(vars)} = {unquote_splicing(values)}

      Nx.Defn.Kernel.__while__(
        __ENV__.file,
        __ENV__.line,
        unquote(initial),
        unquote(generator),
        fn which, unquote(fn_pattern) ->
          case which do
            :condition -> unquote(condition)
            :body -> unquote(body)
          end
        end,
        unquote(opts)
      )
    end
  end

  defp while_state({left, right}, acc) do
    {left, acc} = while_state(left, acc)
    {right, acc} = while_state(right, acc)
    {{left, right}, acc}
  end

  defp while_state({:{}, meta, items}, acc) do
    {items, acc} = Enum.map_reduce(items, acc, &while_state/2)
    {{:{}, meta, items}, acc}
  end

  defp while_state({:=, _, [{name, meta, ctx}, value]}, acc)
       when Kernel.and(is_atom(name), is_atom(ctx)) do
    var = {name, [generated: true] ++ meta, ctx}
    {var, [{var, value} | acc]}
  end

  defp while_state({name, meta, ctx}, acc) when Kernel.and(is_atom(name), is_atom(ctx)),
    do: {{name, [generated: true] ++ meta, ctx}, acc}

  defp while_state(other, _acc) do
    Kernel.raise(ArgumentError, """
    invalid initial state for "while": expected a variable, a variable assignment \
    or a tuple of them, such as `while {x = 0, y}, x < y do ... end`, got: \
    #{Macro.to_string(other)}\
    """)
  end

  @doc false
  defdelegate __while__(file, line, initial, generator, condition_body, opts),
    to: Nx.Defn.Expr,
    as: :defn_while

  ## Debugging and hooks

  @doc """
  Prints the expression being built (see `IO.inspect/2` for `opts`) and
  returns it.

      defn f(x), do: print_expr(x + 1)
  """
  @spec print_expr(term, keyword) :: term
  def print_expr(expr, opts \\ []), do: IO.inspect(expr, opts)

  @doc """
  Prints the runtime value of `expr` (a tensor or container), transformed
  with `fun` or printed with `opts` (options of `IO.inspect/2`), and
  returns `expr`. Built on `hook/3`: the result must be used for the print
  to happen.
  """
  @spec print_value(term, keyword | (term -> term)) :: term
  def print_value(expr, fun_or_opts \\ [])
  def print_value(expr, fun) when is_function(fun, 1), do: print_value(expr, fun, [])
  def print_value(expr, opts) when is_list(opts), do: print_value(expr, & &1, opts)

  @doc """
  Prints `fun.(expr)`'s runtime value with `IO.inspect/2` options `opts`,
  and returns `expr`. See `print_value/2`.
  """
  @spec print_value(term, (term -> term), keyword) :: term
  def print_value(expr, fun, opts) when Kernel.and(is_function(fun, 1), is_list(opts)) do
    {token, _} = hook_token(create_token(), fun.(expr), &IO.inspect(&1, opts))
    attach_token(token, expr)
  end

  @doc """
  Calls a function with the runtime value of `expr` and returns `expr`.

  The second argument is a name (an atom: the function is given at jit
  time, `Nx.Defn.jit(fun, hooks: %{name => callback})`) or a function.
  The hook only runs if the returned value is used (it is attached to it).
  """
  @spec hook(term, atom | (term -> term)) :: term
  def hook(expr, name) when is_atom(name), do: do_hook(expr, name, nil)
  def hook(expr, fun) when is_function(fun, 1), do: do_hook(expr, hook_name(), fun)

  @doc """
  A named hook with a default callback, which a hook of the same name
  given to `Nx.Defn.jit/2` overrides. See `hook/2`.
  """
  @spec hook(term, atom, (term -> term)) :: term
  def hook(expr, name, fun) when Kernel.and(is_atom(name), is_function(fun, 1)),
    do: do_hook(expr, name, fun)

  defp do_hook(expr, name, fun) do
    {token, expr} = Nx.Defn.Expr.add_hook(create_token(), expr, name, fun)
    attach_token(token, expr)
  end

  defp hook_name, do: :"hook_#{System.unique_integer([:positive])}"

  @doc """
  Adds a hook on `expr` to `token` and returns `{token, expr}`: hooks in a
  token run in order once the token is attached (`attach_token/2`) to a
  value that is used.
  """
  @spec hook_token(Nx.Defn.Token.t(), term, atom | (term -> term)) :: {Nx.Defn.Token.t(), term}
  def hook_token(token, expr, name) when is_atom(name),
    do: Nx.Defn.Expr.add_hook(token, expr, name, nil)

  def hook_token(token, expr, fun) when is_function(fun, 1),
    do: Nx.Defn.Expr.add_hook(token, expr, hook_name(), fun)

  @doc """
  Adds a named hook with a default callback to `token`. See `hook_token/3`.
  """
  @spec hook_token(Nx.Defn.Token.t(), term, atom, (term -> term)) :: {Nx.Defn.Token.t(), term}
  def hook_token(token, expr, name, fun) when Kernel.and(is_atom(name), is_function(fun, 1)),
    do: Nx.Defn.Expr.add_hook(token, expr, name, fun)

  @doc """
  Creates an empty token for `hook_token/3`.

  ## Examples

      iex> Nx.Defn.Kernel.create_token()
      %Nx.Defn.Token{hooks: []}
  """
  @spec create_token() :: Nx.Defn.Token.t()
  def create_token, do: Nx.Defn.Token.new()

  @doc """
  Attaches `token` to every tensor of `expr`: the token's hooks run when
  the result is computed.
  """
  @spec attach_token(Nx.Defn.Token.t(), term) :: term
  def attach_token(%Nx.Defn.Token{} = token, expr), do: Nx.Defn.Expr.attach_token(token, expr)

  ## Gradients

  @doc """
  Marks `expr` so that gradients do not flow through it (its gradient is
  zero). Evaluates to `expr`.
  """
  @spec stop_grad(term) :: term
  def stop_grad(expr), do: Nx.Defn.Expr.metadata(expr, %{stop_grad: true, inspect: :stop_grad})

  @doc """
  Gives `expr` a custom gradient: `fun` receives the incoming gradient and
  returns one gradient per tensor of `inputs`. Evaluates to `expr`.

      custom_grad(Nx.cos(x), [x], fn g -> [-g * Nx.sin(x)] end)
  """
  @spec custom_grad(term, [Nx.Tensor.t()], (Nx.Tensor.t() -> [Nx.Tensor.t()])) :: term
  def custom_grad(expr, inputs, fun) when Kernel.and(is_list(inputs), is_function(fun, 1)) do
    Nx.Defn.Expr.metadata(expr, %{custom_grad: {inputs, fun}, inspect: :custom_grad})
  end

  ## Options

  @doc """
  Validates the keyword list `keyword` against `allowed` (atoms, or
  `{key, default}` pairs) and fills in defaults, as `Keyword.validate!/2`.

  ## Examples

      iex> Nx.Defn.Kernel.keyword!([b: 3], [:a, b: 2, c: 1]) |> Enum.sort()
      [b: 3, c: 1]

      iex> Nx.Defn.Kernel.keyword!([d: 1], [:a, b: 2])
      ** (ArgumentError) unknown key :d in [d: 1], expected one of [:a, :b]
  """
  @spec keyword!(keyword, [atom | {atom, term}]) :: keyword
  def keyword!(keyword, allowed) when Kernel.and(is_list(keyword), is_list(allowed)) do
    keys =
      Enum.map(allowed, fn
        {key, _} -> key
        key -> key
      end)

    unless Keyword.keyword?(keyword) do
      Kernel.raise(
        ArgumentError,
        "expected a keyword list with keys #{Kernel.inspect(keys)}, got: #{Kernel.inspect(keyword)}"
      )
    end

    case Keyword.validate(keyword, allowed) do
      {:ok, keyword} ->
        keyword

      {:error, [key | _]} ->
        Kernel.raise(
          ArgumentError,
          "unknown key #{Kernel.inspect(key)} in #{Kernel.inspect(keyword)}, " <>
            "expected one of #{Kernel.inspect(keys)}"
        )
    end
  end

  @doc """
  Returns `keyword` if it has every key of `keys`, raises otherwise.

  ## Examples

      iex> Nx.Defn.Kernel.assert_keys([a: 1, b: 2], [:a])
      [a: 1, b: 2]

      iex> Nx.Defn.Kernel.assert_keys([a: 1], [:b])
      ** (ArgumentError) expected key :b in keyword list, got: [a: 1]
  """
  @spec assert_keys(keyword, [atom]) :: keyword
  def assert_keys(keyword, keys) when Kernel.and(is_list(keyword), is_list(keys)) do
    for key <- keys, Kernel.not(Keyword.has_key?(keyword, key)) do
      Kernel.raise(
        ArgumentError,
        "expected key #{Kernel.inspect(key)} in keyword list, got: #{Kernel.inspect(keyword)}"
      )
    end

    keyword
  end

  ## Special forms (documentation only)

  @doc "Defines an alias inside `defn`, as `Kernel.SpecialForms.alias/2`."
  defmacro alias(module, opts \\ []), do: special_form!([module, opts])

  @doc "Imports a module inside `defn`, as `Kernel.SpecialForms.import/2`."
  defmacro import(module, opts \\ []), do: special_form!([module, opts])

  @doc "Requires a module inside `defn`, as `Kernel.SpecialForms.require/2`."
  defmacro require(module, opts \\ []), do: special_form!([module, opts])

  @doc """
  Chooses the first clause whose scalar predicate is true (not zero). The
  last clause must be `true`. Every branch is built; branches are
  broadcast to a common shape and type.

      cond do
        x > 0 -> x
        x < 0 -> -x
        true -> 0
      end
  """
  defmacro cond(clauses), do: special_form!([clauses])

  @doc """
  Matches a value known while tracing (a shape, a type, an option, a
  tuple) against patterns:

      case Nx.shape(t) do
        {n, n} -> t
        _ -> Nx.transpose(t)
      end
  """
  defmacro case(expr, clauses), do: special_form!([expr, clauses])

  defp special_form!(_args),
    do: Kernel.raise("special forms are documented here but must not be imported")

  @special_forms [
    alias: 1,
    alias: 2,
    import: 1,
    import: 2,
    require: 1,
    require: 2,
    cond: 1,
    case: 2
  ]

  @imports Kernel.--(
             Enum.reject(
               Kernel.++(
                 Module.definitions_in(__MODULE__, :def),
                 Module.definitions_in(__MODULE__, :defmacro)
               ),
               fn {name, _} -> String.starts_with?(Atom.to_string(name), "__") end
             ),
             @special_forms
           )

  @doc false
  defmacro __using__(_opts) do
    quote do
      import Kernel, only: [@: 1, <>: 2], warn: false
      import Nx.Defn.Kernel, only: unquote(@imports), warn: false
      alias Nx.Defn.Kernel, as: Kernel, warn: false
    end
  end
end
