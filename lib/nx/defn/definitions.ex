defmodule Nx.Defn.Definitions do
  # Compile-time side of `defn`.
  #
  # `defn name(args), do: body` first defines an ordinary function whose body
  # imports `Nx.Defn.Kernel` instead of `Kernel`, so Elixir expands its macros
  # (`if`, `while`, operators in guards, ...). Before the module is compiled,
  # `__before_compile__/1` reads each expanded definition back, checks that it
  # only uses what defn supports (raising CompileError otherwise), rewrites
  # `cond` and `case` into their defn forms, and replaces it with:
  #
  #   * `name/arity` - the entry point: calls the implementation directly when
  #     a trace is running, or `Nx.Defn.jit_apply/3` otherwise;
  #   * `:"__defn:name__"/arity` - the implementation, the body to trace.
  #
  # Transforms keep their definition and get a `:"__defn:name__"` alias, so
  # that defn code in other modules can call them.
  @moduledoc false

  @exports_key :__nx_defn_exports__

  # Modules whose functions defn code may call directly.
  @allowed_modules [Nx, Nx.Constants, Nx.Defn, Nx.Defn.Kernel, Nx.LinAlg, Nx.Type, Nx.Random] ++
                     [Access, String.Chars, Kernel.Utils]

  # Nx functions that need tensor values, which do not exist while tracing.
  @forbidden_nx [:backend_copy, :backend_deallocate, :backend_transfer, :to_list] ++
                  [:to_binary, :to_number, :to_flat_list, :to_heatmap, :to_batched] ++
                  [:load_numpy!, :load_numpy_archive!, :compatible?, :default_backend] ++
                  [:serialize, :deserialize, :from_pointer, :to_pointer, :global_default_backend]

  @doc false
  def register(module, kind, name, arity, type, defaults) do
    exports =
      case Module.get_attribute(module, @exports_key) do
        nil ->
          Module.put_attribute(module, :before_compile, __MODULE__)
          %{}

        exports ->
          exports
      end

    entry = %{kind: kind, type: type, defaults: defaults}

    exports =
      Map.update(exports, {name, arity}, entry, fn previous ->
        if map_size(previous.defaults) > 0, do: previous, else: entry
      end)

    Module.put_attribute(module, @exports_key, exports)
    :ok
  end

  @doc false
  def defn_name(name), do: :"__defn:#{name}__"

  defmacro __before_compile__(env) do
    exports = Module.get_attribute(env.module, @exports_key)

    callable =
      for {{name, arity}, %{defaults: defaults}} <- exports,
          arity <- (arity - map_size(defaults))..arity,
          into: MapSet.new(),
          do: {name, arity}

    state = %{module: env.module, file: env.file, line: env.line, callable: callable}

    {transforms, defns} = Enum.split_with(exports, fn {_, meta} -> meta.type == :transform end)

    quoted =
      Enum.map(transforms, &transform_alias(&1, state)) ++
        Enum.flat_map(defns, &rewrite_defn(&1, state))

    {:__block__, [], quoted}
  end

  defp transform_alias({{name, arity}, %{defaults: defaults}}, state) do
    case Module.get_definition(state.module, {name, arity}) do
      {:v1, kind, meta, _clauses} ->
        args = Macro.generate_arguments(arity, __MODULE__)

        head_args =
          Enum.with_index(args, fn arg, i ->
            case defaults do
              %{^i => default} -> {:\\, [], [arg, default]}
              %{} -> arg
            end
          end)

        quote line: meta[:line] || state.line do
          Kernel.unquote(kind)(unquote(defn_name(name))(unquote_splicing(head_args)),
            do: unquote(name)(unquote_splicing(args))
          )
        end

      nil ->
        nil
    end
  end

  defp rewrite_defn({{name, arity}, %{kind: kind, defaults: defaults}}, state) do
    {:v1, _kind, meta, clauses} = Module.get_definition(state.module, {name, arity})
    state = %{state | line: meta[:line] || state.line}
    what = if kind == :def, do: "defn", else: "defnp"

    {args, body} =
      case clauses do
        [{_meta, args, [], body}] ->
          {args, body}

        [] ->
          compile_error!(meta, state, "cannot have #{what} #{name}/#{arity} without clauses")

        _ ->
          compile_error!(
            meta,
            state,
            "cannot compile #{what} #{name}/#{arity} with multiple clauses"
          )
      end

    args = Enum.map(args, &normalize_arg(&1, meta, state))
    body = normalize(body, state)
    Module.delete_definition(state.module, {name, arity})

    impl_args =
      Enum.with_index(args, fn arg, i ->
        case defaults do
          %{^i => default} when kind == :def -> {:\\, [], [arg, default]}
          %{} -> arg
        end
      end)

    vars = Macro.generate_arguments(arity, __MODULE__)
    impl = defn_name(name)

    entry =
      quote line: state.line do
        Kernel.unquote(kind)(unquote(name)(unquote_splicing(vars))) do
          if Nx.Defn.Compiler.current() do
            unquote(impl)(unquote_splicing(vars))
          else
            Nx.Defn.jit_apply(
              &(unquote(Macro.var(impl, __MODULE__)) / unquote(arity)),
              unquote(vars)
            )
          end
        end
      end

    implementation =
      quote line: state.line do
        Kernel.unquote(kind)(unquote(impl)(unquote_splicing(impl_args)), do: unquote(body))
      end

    [entry, implementation]
  end

  ## Arguments

  defp normalize_arg({name, _, ctx} = var, _meta, _state) when is_atom(name) and is_atom(ctx),
    do: normalize_var(var)

  defp normalize_arg({:=, meta, [left, right]}, _meta, state),
    do: {:=, meta, [normalize_arg(left, meta, state), normalize_arg(right, meta, state)]}

  defp normalize_arg({:{}, meta, args}, _meta, state),
    do: {:{}, meta, Enum.map(args, &normalize_arg(&1, meta, state))}

  defp normalize_arg({left, right}, meta, state),
    do: {normalize_arg(left, meta, state), normalize_arg(right, meta, state)}

  defp normalize_arg({:%{}, meta, pairs}, _meta, state),
    do: {:%{}, meta, Enum.map(pairs, fn {k, v} -> {k, normalize_arg(v, meta, state)} end)}

  defp normalize_arg({:%, meta, [struct, map]}, _meta, state),
    do: {:%, meta, [struct, normalize_arg(map, meta, state)]}

  defp normalize_arg(other, meta, state) do
    compile_error!(
      meta,
      state,
      "only variables, tuples, maps, and structs are allowed as patterns in defn, got: " <>
        Macro.to_string(other)
    )
  end

  ## Body

  defp normalize({:__block__, meta, exprs}, state),
    do: {:__block__, meta, Enum.map(exprs, &normalize(&1, state))}

  defp normalize({:=, meta, [left, right]}, state),
    do: {:=, meta, [normalize_pattern(left), normalize(right, state)]}

  defp normalize({:fn, meta, [{:->, clause_meta, [args, body]}]}, state) do
    args = Enum.map(args, &normalize_arg(&1, meta, state))
    {:fn, meta, [{:->, clause_meta, [args, normalize(body, state)]}]}
  end

  defp normalize({:fn, meta, _clauses}, state),
    do: compile_error!(meta, state, "only a single clause is allowed inside fn")

  defp normalize({:cond, meta, [[do: clauses]]}, state) do
    clauses =
      Enum.map(clauses, fn {:->, clause_meta, [[pred], body]} ->
        pred = normalize(pred, state)
        body = normalize(body, state)
        line = [line: clause_meta[:line] || meta[:line]]
        quote do: {unquote(line), {unquote(pred), fn -> unquote(body) end}}
      end)

    quote do: Nx.Defn.Expr.defn_cond(unquote(state.file), unquote(clauses))
  end

  defp normalize({:case, meta, [expr, [do: clauses]]}, state) do
    clauses = Enum.map(clauses, &normalize_case_clause(&1, state))
    checked = quote do: Nx.Defn.Compiler.__case__(unquote(normalize(expr, state)))
    {:case, meta, [checked, [do: clauses]]}
  end

  defp normalize({:&, _, _} = capture, _state), do: capture

  defp normalize({:<<>>, meta, segments}, state) do
    segments =
      Enum.map(segments, fn {:"::", seg_meta, [value, spec]} ->
        {:"::", seg_meta, [normalize(value, state), spec]}
      end)

    {:<<>>, meta, segments}
  end

  defp normalize({special, meta, args}, state) when special in [:{}, :%{}, :%, :|] do
    {special, meta, Enum.map(args, &normalize(&1, state))}
  end

  defp normalize({:super, meta, _}, state),
    do: compile_error!(meta, state, "super is not supported inside defn")

  defp normalize({name, meta, args}, state) when is_atom(name) and is_list(args) do
    arity = length(args)

    cond do
      {name, arity} in state.callable ->
        {name, meta, Enum.map(args, &normalize(&1, state))}

      Module.defines?(state.module, {name, arity}) ->
        compile_error!(
          meta,
          state,
          "cannot use function #{name}/#{arity} inside defn because it was not defined with defn"
        )

      true ->
        compile_error!(
          meta,
          state,
          "undefined function #{name}/#{arity} (there is no such import)"
        )
    end
  end

  defp normalize({name, _meta, ctx} = var, _state) when is_atom(name) and is_atom(ctx),
    do: normalize_var(var)

  defp normalize({{:., dot_meta, [fun]}, meta, args}, state),
    do: {{:., dot_meta, [normalize(fun, state)]}, meta, Enum.map(args, &normalize(&1, state))}

  defp normalize({{:., _, [Nx, name]}, meta, args} = call, state) do
    if name in @forbidden_nx do
      compile_error!(
        meta,
        state,
        "#{Exception.format_mfa(Nx, name, length(args))} is not allowed inside defn"
      )
    end

    normalize_remote_args(call, state)
  end

  defp normalize({{:., _, [module, _name]}, _meta, _args} = call, state)
       when module in @allowed_modules,
       do: normalize_remote_args(call, state)

  defp normalize({{:., _, [:erlang, :error]}, _meta, _args} = call, state),
    do: normalize_remote_args(call, state)

  defp normalize({{:., _, [Complex, :new]}, _meta, _args} = call, state),
    do: normalize_remote_args(call, state)

  defp normalize({{:., _, [module, :exception]}, _meta, [_]} = call, state) when is_atom(module),
    do: normalize_remote_args(call, state)

  defp normalize({{:., dot_meta, [module, name]}, meta, args}, state)
       when is_atom(module) and is_atom(name) do
    if is_erlang_module?(module) do
      compile_error!(
        meta,
        state,
        "cannot invoke #{Exception.format_mfa(module, name, length(args))} inside defn"
      )
    end

    args = Enum.map(args, &normalize(&1, state))
    call = {:., dot_meta, [Nx.Defn.Compiler, :__remote__]}
    {call, meta, [module, name, defn_name(name), args]}
  end

  defp normalize({{:., dot_meta, [remote, name]}, meta, args}, state) when is_atom(name) do
    {{:., dot_meta, [normalize(remote, state), name]}, meta,
     Enum.map(args, &normalize(&1, state))}
  end

  defp normalize({left, right}, state), do: {normalize(left, state), normalize(right, state)}

  defp normalize(list, state) when is_list(list), do: Enum.map(list, &normalize(&1, state))

  defp normalize(literal, _state)
       when is_number(literal) or is_atom(literal) or is_binary(literal),
       do: literal

  defp normalize(other, state) do
    meta = if is_tuple(other) and tuple_size(other) == 3, do: elem(other, 1), else: []
    text = other |> Macro.to_string() |> String.replace("\n", "\n    ")
    compile_error!(meta, state, "invalid numerical expression:\n\n    #{text}\n")
  end

  defp normalize_remote_args({dot, meta, args}, state),
    do: {dot, meta, Enum.map(args, &normalize(&1, state))}

  defp is_erlang_module?(module) do
    module |> Atom.to_string() |> String.starts_with?("Elixir.") |> Kernel.not()
  end

  defp normalize_case_clause({:->, clause_meta, [[head], body]}, state) do
    {pattern, guard} =
      case head do
        {:when, _, [pattern, guard]} -> {pattern, guard}
        pattern -> {pattern, true}
      end

    {pattern, vars} =
      Macro.prewalk(pattern, MapSet.new(), fn
        {:%{}, meta, [_ | _]} = map, _vars ->
          compile_error!(
            meta,
            state,
            "case/2 in defn does not allow matching on keys of maps and structs in patterns, " <>
              "got: #{Macro.to_string(map)}"
          )

        {name, _meta, ctx} = var, vars when is_atom(name) and is_atom(ctx) ->
          {normalize_var(var), MapSet.put(vars, {name, ctx})}

        other, vars ->
          {other, vars}
      end)

    guard =
      Macro.prewalk(guard, fn
        {name, meta, ctx} = var when is_atom(name) and is_atom(ctx) ->
          if MapSet.member?(vars, {name, ctx}) do
            normalize_var(var)
          else
            compile_error!(
              meta,
              state,
              "case/2 guards in defn can only use variables defined in the pattern, got: #{name}"
            )
          end

        other ->
          other
      end)

    {:->, clause_meta, [[{:when, clause_meta, [pattern, guard]}], normalize(body, state)]}
  end

  defp normalize_pattern(pattern) do
    Macro.prewalk(pattern, fn
      {name, _meta, ctx} = var when is_atom(name) and is_atom(ctx) -> normalize_var(var)
      other -> other
    end)
  end

  # Expanded code marks each variable binding with a version; re-expanding it
  # must keep those bindings apart, so the version becomes the hygiene counter.
  defp normalize_var({name, meta, ctx} = var) do
    case Keyword.pop(meta, :version) do
      {nil, _} -> var
      {version, meta} -> {name, [counter: version, generated: true] ++ meta, ctx}
    end
  end

  defp compile_error!(meta, state, description) do
    raise CompileError,
      file: state.file,
      line: meta[:line] || state.line,
      description: description
  end
end
