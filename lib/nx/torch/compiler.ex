defmodule Nx.Torch.Compiler do
  # The defn compiler behind `Nx.Torch` (see its moduledoc): traces once per function, input
  # templates and options, lowers the graph (Nx.Torch.Compiler.Lower), has the engine build
  # a program once, and runs every later call as one NIF call.
  @moduledoc false

  require Logger

  alias Nx.Defn.{Composite, Evaluator}
  alias Nx.Tensor, as: T
  alias Nx.Torch.{Backend, NIF}
  alias Nx.Torch.Compiler.Lower

  @table __MODULE__.Cache
  # entries kept before the cache is emptied
  @cache_limit 1024
  # a function compiled for this many input templates gets a warning
  @recompile_warnings [8, 32, 128, 512]
  # programs whose rough cost (element operations) is below this run on a normal scheduler
  @dirty_cost 200_000

  def __partitions_options__(opts) do
    case device(opts) do
      :cpu ->
        List.duplicate(opts, Keyword.get(opts, :max_concurrency, 1))

      {:cuda, _} ->
        case Nx.Torch.info().cuda_device_count do
          0 -> [opts]
          n -> for i <- 0..(n - 1), do: Keyword.put(opts, :device, {:cuda, i})
        end
    end
  end

  def __to_backend__(opts), do: {Backend, device: device(opts)}

  def __jit__(key, vars, fun, args_list, opts), do: __compile__(key, vars, fun, opts).(args_list)

  def __compile__(key, vars, fun, opts) do
    {hooks, opts} = Keyword.pop(opts, :hooks, %{})
    device = device(opts)
    fuse? = Keyword.get(opts, :fuse, true)

    # Programs are lowered for plain tensors; vectorized inputs run with the Evaluator, which
    # devectorizes them.
    vectorized? =
      vars
      |> Composite.flatten_list()
      |> Enum.any?(&match?(%Nx.Tensor{vectorized_axes: [_ | _]}, &1))

    compiled =
      if vectorized?,
        do: {:evaluator, :vectorized},
        else: entry(key, vars, fun, hooks, device, fuse?, Keyword.get(opts, :cache, true))

    case compiled do
      %{} = program ->
        fn args_list -> Enum.map(args_list, &run(program, &1, hooks)) end

      {:evaluator, _reason} ->
        opts = Keyword.drop(opts, [:device, :fuse])
        Evaluator.__compile__(key, vars, fun, Keyword.put(opts, :hooks, hooks))
    end
  end

  @doc false
  # The device a compilation targets: the `:device` option, else the default backend's.
  def device(opts) do
    device =
      case Keyword.fetch(opts, :device) do
        {:ok, device} ->
          device

        :error ->
          case Nx.default_backend() do
            {Backend, backend_opts} -> Keyword.get(backend_opts, :device, :cpu)
            _ -> :cpu
          end
      end

    case device do
      :cuda -> {:cuda, 0}
      other -> Backend.device_code(other) && other
    end
  end

  ## Cache

  defp entry(key, vars, fun, hooks, device, fuse?, false),
    do: compile(key, vars, fun, hooks, device, fuse?)

  defp entry(key, vars, fun, hooks, device, fuse?, true) do
    templates = vars |> Composite.flatten_list() |> Enum.map(&%{&1 | data: nil})
    hook_names = if hooks == %{}, do: [], else: hooks |> Map.keys() |> Enum.sort()
    cache_key = {key, templates, device, fuse?, hook_names}
    table = table()

    case :ets.lookup(table, cache_key) do
      [{_, entry}] ->
        entry

      [] ->
        # Concurrent first calls of one key compile once: the others wait for the lock and
        # find the entry.
        lock = {{__MODULE__, :erlang.phash2(cache_key)}, self()}

        :global.trans(
          lock,
          fn ->
            case :ets.lookup(table, cache_key) do
              [{_, entry}] ->
                entry

              [] ->
                entry = compile(key, vars, fun, hooks, device, fuse?)
                store(table, cache_key, key, entry)
                entry
            end
          end,
          [node()],
          :infinity
        )
    end
  end

  defp store(table, cache_key, key, entry) do
    if :ets.info(table, :size) >= @cache_limit, do: :ets.delete_all_objects(table)
    :ets.insert(table, {cache_key, entry})
    count = :ets.update_counter(table, {:templates, key}, 1, {{:templates, key}, 0})

    if count in @recompile_warnings do
      Logger.warning(
        "Nx.Torch has compiled #{inspect(key)} for #{count} different argument shapes or " <>
          "types. Every new shape compiles again: pad or batch inputs to a few fixed shapes"
      )
    end
  end

  @doc false
  # Empties the cache (tests and benchmarks use it to measure first calls).
  def clear_cache, do: :ets.delete_all_objects(table())

  defp table do
    case :ets.whereis(@table) do
      :undefined -> start_table()
      _ref -> @table
    end
  end

  # The table belongs to a process of its own, so that it outlives the callers.
  defp start_table do
    parent = self()

    {pid, monitor} =
      spawn_monitor(fn ->
        try do
          :ets.new(@table, [:named_table, :public, :set, read_concurrency: true])
          send(parent, {:cache_ready, self()})
          Process.sleep(:infinity)
        rescue
          ArgumentError -> send(parent, {:cache_ready, self()})
        end
      end)

    receive do
      {:cache_ready, ^pid} ->
        Process.demonitor(monitor, [:flush])

      {:DOWN, ^monitor, _, _, reason} ->
        raise "could not start the Nx.Torch cache: #{inspect(reason)}"
    end

    @table
  end

  ## Compilation

  defp compile(key, vars, fun, hooks, device, fuse?) do
    # Tracing errors are the user's: they propagate. Errors after it are ours: the function
    # then runs with the Evaluator.
    expr = fun.(vars)
    templates = vars |> Composite.flatten_list() |> Enum.map(&%{&1 | data: nil})

    try do
      outputs = Composite.flatten_list([expr])

      case Lower.lower(outputs, templates, device, hooks) do
        {:ok, spec} ->
          literals = spec.literals
          code = Backend.device_code(device)

          {ref, cost, fused} =
            NIF.p_build(spec.inputs, literals, spec.instrs, spec.outputs, code, fuse?)

          templates = Enum.map(outputs, &%{&1 | data: nil})
          result = Lower.template(expr)

          %{
            ref: ref,
            runner: runner(device, cost),
            device: device,
            result: result,
            # a single tensor result with no hooks: the one output is the result
            single: match?([], spec.hooks) and match?(%T{}, result) and match?([_], templates),
            templates: templates,
            n_outputs: length(templates),
            # the result templates, then the hooks' values
            all_templates:
              templates ++ Enum.flat_map(spec.hooks, &Composite.flatten_list([&1.template])),
            hooks: spec.hooks,
            fused: fused
          }

        {:unsupported, reason} ->
          fallback(key, reason)
      end
    rescue
      error -> fallback(key, Exception.message(error))
    end
  end

  defp fallback(key, reason) do
    Logger.warning(
      "Nx.Torch cannot compile #{inspect(key)} yet (#{reason}); it runs with Nx.Defn.Evaluator"
    )

    {:evaluator, reason}
  end

  defp runner({:cuda, _}, _cost), do: :p_run_io
  defp runner(:cpu, cost) when cost >= 0 and cost < @dirty_cost, do: :p_run
  defp runner(:cpu, _cost), do: :p_run_dirty

  ## Running

  defp run(%{single: true, templates: [template], device: device} = program, args, _hooks) do
    [ref] = call(program, input_refs(args, device))
    %{template | data: %Backend{ref: ref, device: device}}
  end

  defp run(program, args, hooks) do
    device = program.device
    refs = call(program, input_refs(args, device))

    {outputs, hook_refs} =
      refs
      |> Enum.zip_with(program.all_templates, fn ref, t ->
        %{t | data: %Backend{ref: ref, device: device}}
      end)
      |> Enum.split(program.n_outputs)

    run_hooks(program.hooks, hook_refs, hooks)
    {result, []} = Composite.traverse(program.result, outputs, fn _, [h | t] -> {h, t} end)
    result
  end

  defp call(%{runner: :p_run, ref: ref}, refs), do: NIF.p_run(ref, refs)
  defp call(%{runner: :p_run_dirty, ref: ref}, refs), do: NIF.p_run_dirty(ref, refs)
  defp call(%{runner: :p_run_io, ref: ref}, refs), do: NIF.p_run_io(ref, refs)

  defp input_refs([], _device), do: []
  defp input_refs([arg | args], device), do: [input_ref(arg, device) | input_refs(args, device)]

  defp run_hooks(hooks, values, overrides) do
    Enum.reduce(hooks, values, fn %{name: name, callback: callback, template: template}, values ->
      {value, rest} = Composite.traverse(template, values, fn _, [h | t] -> {h, t} end)

      case Map.get(overrides, name, callback) do
        nil -> :ok
        fun -> fun.(value)
      end

      rest
    end)

    :ok
  end

  defp input_ref(lazy, device) when is_function(lazy, 0), do: input_ref(lazy.(), device)

  defp input_ref(%T{data: %Backend{ref: ref, device: device}}, device), do: ref

  defp input_ref(%T{data: %Nx.Defn.Expr{}} = tensor, _device) do
    raise ArgumentError,
          "cannot pass a tensor expression as argument to defn, got: #{inspect(tensor)}"
  end

  defp input_ref(%T{} = tensor, device),
    do: tensor |> Nx.backend_copy({Backend, device: device}) |> Backend.ref()

  defp input_ref(number, device), do: number |> Nx.to_tensor() |> input_ref(device)
end
