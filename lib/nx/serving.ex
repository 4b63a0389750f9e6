defmodule Nx.Serving do
  @moduledoc ~S"""
  Runs a computation on batches of inputs, inline or in a process that
  gathers the requests of many callers into batches.

  A serving wraps a function (or a module implementing this behaviour)
  that computes on an `Nx.Batch`, plus optional hooks that run in the
  caller: `client_preprocessing/2` turns the caller's input into a batch,
  `client_postprocessing/2` turns the batch's result into the reply.

  ## Inline

  `run/2` executes a serving in the calling process, right away:

      iex> serving = Nx.Serving.new(fn opts -> Nx.Defn.jit(&Nx.multiply(&1, 3), opts) end)
      iex> batch = Nx.Batch.stack([Nx.tensor([1, 2]), Nx.tensor([3, 4])])
      iex> Nx.Serving.run(serving, batch)
      #Nx.Tensor<
        s32[2][2]
        [
          [3, 6],
          [9, 12]
        ]
      >

  The function given to `new/2` receives the compiler options (the
  `defn_options` of the serving, merged into `Nx.Defn.default_options/0`)
  and returns a function of one argument, the batch: typically
  `Nx.Defn.jit/2` or `Nx.Defn.compile/3` of a numerical function. `jit/2`
  is a shortcut for that.

  Preprocessing and postprocessing shape what callers give and get:

      iex> serving =
      ...>   Nx.Serving.jit(&Nx.sum(&1, axes: [1]))
      ...>   |> Nx.Serving.client_preprocessing(fn rows -> {Nx.Batch.stack(rows), length(rows)} end)
      ...>   |> Nx.Serving.client_postprocessing(fn {sums, _server_info}, count ->
      ...>     {Nx.to_list(sums), count}
      ...>   end)
      iex> Nx.Serving.run(serving, [Nx.tensor([1, 2, 3]), Nx.tensor([4, 5, 6])])
      {[6, 15], 2}

  ## In a process

  Started in a supervision tree (see `start_link/1`), a serving becomes a
  process that waits until it has `:batch_size` entries, or until
  `:batch_timeout` milliseconds passed since the first one, merges the
  batches of every caller into one, runs it, and sends each caller its
  rows of the result. `batched_run/3` is the client:

      children = [
        {Nx.Serving,
         serving: Nx.Serving.jit(&MyModel.predict/1),
         name: MyServing,
         batch_size: 32,
         batch_timeout: 10}
      ]

      Supervisor.start_link(children, strategy: :one_for_one)

      Nx.Serving.batched_run(MyServing, Nx.Batch.stack([input]))

  A caller's batch larger than the room left in the current batch is
  split: part of it runs now, the rest with the next batch, and the caller
  gets the rows of its batch joined back. Batches are not padded to
  `:batch_size` automatically: a serving function that wants a fixed shape
  (to compile once) pads with `Nx.Batch.pad/2`, and the padded rows are
  taken off the results.

  Preprocessing and postprocessing run in the calling process; the
  serving process only batches, and the computation runs in a task under
  the serving's supervisor, one at a time per partition.

  ### Failures

    * An exception in `c:handle_batch/3` or in the function it returns
      fails the callers whose entries were in that batch: each exits with
      `{reason, {Nx.Serving, function, args}}` (`reason` being
      `{exception, stacktrace}`), as `GenServer.call/3` does. The serving
      goes on with the next batches.
    * When the serving process itself dies, every caller waiting on it
      exits (it is monitored) and its supervisor restarts it.
    * A caller whose serving is on a node that goes down exits with
      `:noconnection`.
    * When the serving stops, it fails the entries that did not start
      running and waits up to `:shutdown` for those that did.

  ### Partitions

  With `partitions: true`, the serving asks the compiler of its
  `defn_options` (`c:Nx.Defn.Compiler.__partitions_options__/1`) for one
  list of options per device and runs one batch at a time on each:

      Nx.Serving.new(fun, compiler: Nx.Defn.Evaluator, max_concurrency: 2)

  ### Distribution

  Every serving process joins a `:pg` group of its name. When no process
  of that name runs on this node, or when the name is given as
  `{:distributed, name}`, `batched_run/3` sends the input to a serving of
  that name on a connected node, chosen at random in proportion to its
  `:distribution_weight` (times its number of partitions). Preprocessing
  and postprocessing then run on that node, then
  `distributed_postprocessing/2` there, and the reply comes back.

  Tensors of `Nx.Torch.Backend` live in the memory of one node; the input
  and the reply are copied (tensors by value, `Nx.Batch` entries
  materialized) on the way, and rebuilt on the default backend of the
  receiving process. Functions that captured tensors cannot be copied.

  ### Batch keys

  A serving started with `:batch_keys` gathers batches of each key
  (`Nx.Batch.key/2`) separately; a serving function of two arguments
  receives the key and the compiler options and returns the function for
  batches of that key, for example to compile one shape per key:

      iex> serving =
      ...>   Nx.Serving.new(fn
      ...>     :double, opts -> Nx.Defn.jit(&Nx.multiply(&1, 2), opts)
      ...>     :negate, opts -> Nx.Defn.jit(&Nx.negate/1, opts)
      ...>   end)
      iex> batch = Nx.Batch.stack([Nx.tensor(3)]) |> Nx.Batch.key(:negate)
      iex> Nx.Serving.run(serving, batch) |> Nx.to_list()
      [-3]

  ### Streaming

  With `streaming/2`, `run/2` and `batched_run/3` return a stream of
  `{:batch, output, server_info}` events, one per executed batch, and of
  `{hook_name, value}` events for the `Nx.Defn.Kernel.hook/3` names given.
  A client preprocessing may also return a stream of batches (each at most
  `:batch_size`) instead of one batch: they are sent one after the other.

  ## Custom servings

  A module implementing `c:init/3` and `c:handle_batch/3`, given to
  `new/3`, controls both steps: what to set up per partition, and what to
  run for each batch.

      defmodule Doubler do
        @behaviour Nx.Serving

        @impl true
        def init(_inline_or_process, factor, partitions_options) do
          {:ok, Enum.map(partitions_options, &Nx.Defn.jit(fn t -> Nx.multiply(t, factor) end, &1))}
        end

        @impl true
        def handle_batch(batch, partition, funs) do
          fun = Enum.at(funs, partition)
          {:execute, fn -> {fun.(batch), :no_info} end, funs}
        end
      end

      Nx.Serving.run(Nx.Serving.new(Doubler, 2), Nx.Batch.stack([1, 2]))
  """

  alias Nx.Serving.Portable

  @axis 0
  @pg Nx.Serving.PG

  @enforce_keys [:module, :arg]
  defstruct [
    :module,
    :arg,
    :client_preprocessing,
    :client_postprocessing,
    :streaming,
    :batch_size,
    distributed_postprocessing: &Function.identity/1,
    process_options: [],
    defn_options: []
  ]

  @type metadata :: term
  @type client_info :: term
  @type client_preprocessing :: (term -> {Nx.Batch.t() | Enumerable.t(), client_info})
  @type client_postprocessing ::
          ({Nx.Container.t(), metadata} | Enumerable.t(), client_info ->
             term)
  @type distributed_preprocessing :: (term -> term)
  @type distributed_postprocessing :: (term -> term)

  @type t :: %__MODULE__{
          module: module,
          arg: term,
          client_preprocessing: client_preprocessing | nil,
          client_postprocessing: client_postprocessing | nil,
          distributed_postprocessing: distributed_postprocessing,
          process_options: keyword,
          defn_options: keyword,
          streaming: nil | %{hooks: [atom]},
          batch_size: nil | pos_integer
        }

  @process_keys [
    :batch_size,
    :batch_timeout,
    :batch_keys,
    :partitions,
    :shutdown,
    :hibernate_after,
    :spawn_opt,
    :distribution_weight
  ]

  @doc """
  Sets up a serving: called once per `run/2`, and once when a serving
  process starts (`:process`).

  Receives whether the serving runs `:inline` or as a `:process`, the
  argument given to `new/3`, and a list with the compiler options of each
  partition (one element unless started with `partitions: true`), each
  including `:batch_keys`. Returns `{:ok, state}`.
  """
  @callback init(type :: :inline | :process, arg :: term, partitions :: [keyword]) ::
              {:ok, state :: term}

  @doc """
  Receives a batch, the index of the partition that will run it and the
  state; returns `{:execute, function, state}`, where `function` takes no
  argument and returns `{output, server_info}`. In a serving process the
  function runs in a separate process; `output` must be a tensor or a
  container of tensors whose leading axis is the batch's.
  """
  @callback handle_batch(Nx.Batch.t(), partition :: non_neg_integer, state) ::
              {:execute, (() -> {Nx.Container.t(), metadata}), state}
            when state: term

  ## Construction

  @doc """
  Creates a serving from a function (see the module documentation) and
  compiler options, or from a module implementing this behaviour and the
  argument of its `c:init/3` (see `new/3`).

  The function takes the compiler options and returns the function to
  call on each batch; with two arguments it takes the batch key first.

  ## Examples

      iex> serving = Nx.Serving.new(fn opts -> Nx.Defn.jit(&Nx.add(&1, 1), opts) end)
      iex> Nx.Serving.run(serving, Nx.Batch.stack([Nx.tensor(1), Nx.tensor(2)])) |> Nx.to_list()
      [2, 3]

  ## Error cases

      iex> serving = Nx.Serving.new(fn _opts -> :not_a_function end)
      iex> Nx.Serving.run(serving, Nx.Batch.stack([1]))
      ** (ArgumentError) the function given to Nx.Serving.new/2 must return a function of one argument (for example from Nx.Defn.jit/2 or Nx.Defn.compile/3), got: :not_a_function
  """
  @spec new(function | module, keyword | term) :: t
  def new(function_or_module, defn_options_or_arg \\ [])

  def new(function, defn_options)
      when (is_function(function, 1) or is_function(function, 2)) and is_list(defn_options) do
    new(Nx.Serving.Default, function, defn_options)
  end

  def new(module, arg) when is_atom(module), do: new(module, arg, [])

  @doc """
  Creates a serving from a module implementing the `Nx.Serving`
  behaviour, the argument given to its `c:init/3`, and compiler options
  (merged into `Nx.Defn.default_options/0`).

  ## Examples

      iex> serving = Nx.Serving.new(Nx.Serving.Default, fn opts -> Nx.Defn.jit(&Nx.negate/1, opts) end, [])
      iex> Nx.Serving.run(serving, Nx.Batch.stack([Nx.tensor(1)])) |> Nx.to_list()
      [-1]
  """
  @spec new(module, term, keyword) :: t
  def new(module, arg, defn_options) when is_atom(module) and is_list(defn_options) do
    defn_options = Keyword.merge(Nx.Defn.default_options(), defn_options)
    %Nx.Serving{module: module, arg: arg, defn_options: defn_options}
  end

  @doc """
  Creates a serving that calls `Nx.Defn.jit(fun, opts)` with the serving's
  compiler options: `new(fn opts -> Nx.Defn.jit(fun, opts) end, defn_options)`.

  ## Examples

      iex> serving = Nx.Serving.jit(&Nx.pow(&1, 2))
      iex> Nx.Serving.run(serving, Nx.Batch.concatenate([Nx.tensor([1, 2, 3])])) |> Nx.to_list()
      [1, 4, 9]
  """
  @spec jit(function, keyword) :: t
  def jit(fun, defn_options \\ []) when is_function(fun) and is_list(defn_options) do
    new(fn opts -> Nx.Defn.jit(fun, opts) end, defn_options)
  end

  @doc """
  Sets the largest batch the serving runs at once, for `run/2` as well as
  for serving processes: larger inputs are split into batches of at most
  that size (and the results joined). A serving process started with a
  different `:batch_size` raises.

  ## Examples

      iex> serving =
      ...>   Nx.Serving.jit(&Nx.multiply(&1, 10))
      ...>   |> Nx.Serving.batch_size(2)
      iex> batch = Nx.Batch.stack([1, 2, 3, 4, 5])
      iex> Nx.Serving.run(serving, batch) |> Nx.to_list()
      [10, 20, 30, 40, 50]
  """
  @spec batch_size(t, pos_integer) :: t
  def batch_size(%Nx.Serving{} = serving, batch_size)
      when is_integer(batch_size) and batch_size > 0 do
    %{serving | batch_size: batch_size}
  end

  @doc """
  Sets the client preprocessing: a function of the caller's input that
  returns `{batch, client_info}`, where `batch` is an `Nx.Batch` or a
  stream of them. `nil` (the default) expects a batch (or a stream of
  batches) as input and gives `:client_info`.

  ## Examples

      iex> serving =
      ...>   Nx.Serving.jit(&Nx.negate/1)
      ...>   |> Nx.Serving.client_preprocessing(&{Nx.Batch.concatenate([Nx.tensor(&1)]), :info})
      iex> Nx.Serving.run(serving, [1, 2]) |> Nx.to_list()
      [-1, -2]
  """
  @spec client_preprocessing(t, client_preprocessing | nil) :: t
  def client_preprocessing(%Nx.Serving{} = serving, function)
      when is_function(function, 1) or is_nil(function) do
    %{serving | client_preprocessing: function}
  end

  @doc """
  Sets the client postprocessing: a function of `{output, server_info}`
  (or, when streaming, the stream of events) and the client information
  from the preprocessing, whose result is the reply. `nil` (the default)
  returns the output (or the stream).

  ## Examples

      iex> serving =
      ...>   Nx.Serving.jit(&Nx.negate/1)
      ...>   |> Nx.Serving.client_postprocessing(fn {output, server_info}, client_info ->
      ...>     {Nx.to_list(output), server_info, client_info}
      ...>   end)
      iex> Nx.Serving.run(serving, Nx.Batch.stack([1]))
      {[-1], :server_info, :client_info}
  """
  @spec client_postprocessing(t, client_postprocessing | nil) :: t
  def client_postprocessing(%Nx.Serving{} = serving, function)
      when is_function(function, 2) or is_nil(function) do
    %{serving | client_postprocessing: function}
  end

  @doc """
  Sets the function that a serving process's node applies to the reply of
  a distributed `batched_run/3`, before sending it to the caller's node.
  The default is `Function.identity/1`.

  ## Examples

      iex> serving = Nx.Serving.jit(&Nx.negate/1) |> Nx.Serving.distributed_postprocessing(&Nx.to_list/1)
      iex> is_function(serving.distributed_postprocessing, 1)
      true
  """
  @spec distributed_postprocessing(t, distributed_postprocessing) :: t
  def distributed_postprocessing(%Nx.Serving{} = serving, function)
      when is_function(function, 1) do
    %{serving | distributed_postprocessing: function}
  end

  @doc """
  Makes `run/2` and `batched_run/3` return a stream of events (to be
  consumed by the calling process) instead of the output: one
  `{:batch, output, server_info}` per batch run, as batches complete, and,
  for each name in `:hooks`, `{name, value}` whenever the
  `Nx.Defn.Kernel.hook/3` of that name runs.

  With hooks, a caller's batch cannot be split over several executions,
  so it may not exceed the batch size, and the input must be one batch.

  ## Options

    * `:hooks` - hook names to stream (default `[]`)

  ## Examples

      iex> serving = Nx.Serving.jit(&Nx.multiply(&1, 2)) |> Nx.Serving.streaming()
      iex> stream = Nx.Serving.run(serving, Nx.Batch.stack([1, 2]))
      iex> for {:batch, output, _info} <- stream, do: Nx.to_list(output)
      [[2, 4]]

  ## Error cases

      iex> Nx.Serving.jit(&Nx.negate/1) |> Nx.Serving.streaming() |> Nx.Serving.streaming()
      ** (ArgumentError) the serving is already streaming
  """
  @spec streaming(t, keyword) :: t
  def streaming(%Nx.Serving{} = serving, opts \\ []) when is_list(opts) do
    opts = Keyword.validate!(opts, hooks: [])

    if serving.streaming do
      raise ArgumentError, "the serving is already streaming"
    end

    unless is_list(opts[:hooks]) and Enum.all?(opts[:hooks], &is_atom/1) do
      raise ArgumentError, ":hooks must be a list of atoms, got: #{inspect(opts[:hooks])}"
    end

    %{serving | streaming: %{hooks: opts[:hooks]}}
  end

  @doc """
  Sets default options for the serving process, among those of
  `start_link/1` (all but `:name` and `:serving`, which override these).

  ## Examples

      iex> serving = Nx.Serving.jit(&Nx.negate/1) |> Nx.Serving.process_options(batch_size: 8)
      iex> serving.process_options
      [batch_size: 8]

  ## Error cases

      iex> Nx.Serving.jit(&Nx.negate/1) |> Nx.Serving.process_options(name: Foo)
      ** (ArgumentError) unknown keys [:name] in [name: Foo], the allowed keys are: [:batch_size, :batch_timeout, :batch_keys, :partitions, :shutdown, :hibernate_after, :spawn_opt, :distribution_weight]
  """
  @spec process_options(t, keyword) :: t
  def process_options(%Nx.Serving{} = serving, opts) when is_list(opts) do
    %{serving | process_options: Keyword.validate!(opts, @process_keys)}
  end

  @doc """
  Replaces the serving's compiler options (those given to the serving
  function or to `c:init/3`, see `Nx.Defn.jit/2`).

  ## Examples

      iex> serving = Nx.Serving.jit(&Nx.negate/1) |> Nx.Serving.defn_options(compiler: Nx.Defn.Evaluator)
      iex> serving.defn_options
      [compiler: Nx.Defn.Evaluator]
  """
  @spec defn_options(t, keyword) :: t
  def defn_options(%Nx.Serving{} = serving, defn_options) when is_list(defn_options) do
    %{serving | defn_options: defn_options}
  end

  ## Inline

  @doc """
  Runs `serving` on `input` in the calling process, without waiting for
  other inputs. With `batch_size/2`, larger batches are split and run one
  after the other, and the outputs joined.

  ## Examples

      iex> serving = Nx.Serving.jit(&Nx.exp/1)
      iex> Nx.Serving.run(serving, Nx.Batch.stack([0.0]))
      #Nx.Tensor<
        f32[1]
        [1.0]
      >

  ## Error cases

      iex> Nx.Serving.run(Nx.Serving.jit(&Nx.exp/1), :not_a_batch)
      ** (ArgumentError) the default client_preprocessing expects an Nx.Batch or a stream of Nx.Batch, got: :not_a_batch
  """
  @spec run(t, term) :: term
  def run(%Nx.Serving{} = serving, input) do
    %{
      module: module,
      arg: arg,
      client_preprocessing: preprocessing,
      client_postprocessing: postprocessing,
      defn_options: defn_options,
      streaming: streaming,
      batch_size: limit
    } = serving

    {batch_or_stream, info} = handle_preprocessing(preprocessing, input)
    batches = inline_batches(batch_or_stream, limit)

    result =
      if streaming do
        inline_stream(module, arg, defn_options, streaming, batch_or_stream, batches, limit)
      else
        inline_execute(module, arg, defn_options, batches)
      end

    handle_postprocessing(postprocessing, result, info)
  end

  defp inline_batches(%Nx.Batch{size: size} = batch, limit)
       when is_nil(limit) or size <= limit,
       do: [batch]

  defp inline_batches(%Nx.Batch{} = batch, limit) do
    Stream.unfold(batch, fn
      %Nx.Batch{size: 0} -> nil
      %Nx.Batch{size: size} = batch when size > limit -> Nx.Batch.split(batch, limit)
      %Nx.Batch{} = batch -> {batch, %{batch | stack: [], size: 0}}
    end)
  end

  defp inline_batches(stream, limit) do
    Stream.map(stream, fn
      %Nx.Batch{size: size} = batch when size > 0 and (is_nil(limit) or size <= limit) ->
        batch

      other ->
        raise ArgumentError,
              "client_preprocessing must return a stream of non-empty Nx.Batch" <>
                if(limit, do: " of at most #{limit} entries", else: "") <>
                ", got: #{inspect(other)}"
    end)
  end

  defp inline_execute(module, arg, defn_options, batches) do
    {parts, _state} =
      Enum.map_reduce(batches, nil, fn %Nx.Batch{} = batch, state ->
        {:ok, state} = state || inline_init(module, arg, defn_options, batch)
        {:execute, function, state} = handle_batch(module, batch, 0, state)
        {output, metadata} = handle_executed(module, function.())
        {{output, metadata, batch.size}, {:ok, state}}
      end)

    case parts do
      [] ->
        raise ArgumentError, "client_preprocessing returned an empty stream of batches"

      [{output, metadata, size}] ->
        {take_rows(output, 0, size), metadata}

      [{template, _, _} | _] ->
        {_, metadata, _} = List.last(parts)
        leaves = Enum.map(parts, fn {output, _, size} -> leaves_rows(output, 0, size) end)
        {join_leaves(leaves, template), metadata}
    end
  end

  defp inline_init(module, arg, defn_options, %Nx.Batch{key: key}) do
    handle_init(module, :inline, arg, [[batch_keys: [key]] ++ defn_options])
  end

  # Streaming inline: a linked process runs the batches and sends events to
  # an alias of the caller, which consumes them lazily.
  defp inline_stream(module, arg, defn_options, %{hooks: hooks}, batch_or_stream, batches, limit) do
    if hooks != [] do
      case batch_or_stream do
        %Nx.Batch{size: size} when is_nil(limit) or size <= limit ->
          :ok

        %Nx.Batch{size: size} ->
          raise ArgumentError,
                "a batch of #{size} entries cannot exceed the serving's batch size " <>
                  "(#{limit}) when streaming hooks"

        _ ->
          raise ArgumentError, "streaming hooks requires a single Nx.Batch as input, not a stream"
      end
    end

    tag = make_ref()

    pid =
      spawn_link(fn ->
        ref = receive(do: ({^tag, ref} -> ref))

        hook_options =
          Enum.reduce(hooks, Keyword.get(defn_options, :hooks, %{}), fn hook, acc ->
            Map.put(acc, hook, fn value ->
              size = Process.get({__MODULE__, :inline_size})
              send(ref, {ref, {:hook, {0, size, value, hook}}})
            end)
          end)

        defn_options = Keyword.put(defn_options, :hooks, hook_options)

        {_state, total} =
          Enum.reduce(batches, {nil, 0}, fn %Nx.Batch{size: size} = batch, {state, total} ->
            {:ok, state} = state || inline_init(module, arg, defn_options, batch)
            Process.put({__MODULE__, :inline_size}, size)
            {:execute, function, state} = handle_batch(module, batch, 0, state)
            {output, metadata} = handle_executed(module, function.())
            send(ref, {ref, {:batch, {0, size, output, metadata}}})
            {{:ok, state}, total + size}
          end)

        send(ref, {ref, {:stream_done, total}})
      end)

    ref = :erlang.monitor(:process, pid, [{:alias, :demonitor}])
    send(pid, {tag, ref})
    receive_stream("run/2", ref, :unknown)
  end

  ## Process API

  @doc """
  A child specification for a serving process: `start_link/1` with
  `opts`, which must include an atom `:name` (also the child id) and
  `:serving`.

  ## Examples

      iex> spec = Nx.Serving.child_spec(serving: Nx.Serving.jit(&Nx.negate/1), name: MyNegation)
      iex> {spec.id, spec.type}
      {MyNegation, :supervisor}

  ## Error cases

      iex> Nx.Serving.child_spec(serving: Nx.Serving.jit(&Nx.negate/1))
      ** (ArgumentError) Nx.Serving expects the :name option, an atom
  """
  @spec child_spec(keyword) :: Supervisor.child_spec()
  def child_spec(opts) when is_list(opts) do
    name = opts[:name]

    unless name != nil and is_atom(name) do
      raise ArgumentError, "Nx.Serving expects the :name option, an atom"
    end

    unless match?(%Nx.Serving{}, opts[:serving]) do
      raise ArgumentError, "Nx.Serving expects the :serving option, an Nx.Serving struct"
    end

    %{id: name, start: {__MODULE__, :start_link, [opts]}, type: :supervisor}
  end

  @doc """
  Starts a serving process (under a supervisor of its own, which is
  what this returns and what `child_spec/1` describes).

  ## Options

  All but `:name` and `:serving` may also come from `process_options/2`;
  those given here win.

    * `:name` - an atom: the name of the serving process, used by
      `batched_run/3`
    * `:serving` - an `Nx.Serving`
    * `:batch_size` - the most entries in one batch (default: the
      serving's `batch_size/2`, or 1)
    * `:batch_timeout` - milliseconds to wait, after the first entry of a
      batch arrives, before running the batch even if it is not full
      (default 100)
    * `:batch_keys` - the batch keys accepted (default `[:default]`), each
      batched separately
    * `:partitions` - when `true`, one partition per compiler partition
      (device), each running its own batch at the same time (default
      `false`: one)
    * `:distribution_weight` - a positive integer: how many times more
      requests from other nodes this serving gets than one of weight 1
      (default 1; multiplied by the number of partitions)
    * `:shutdown` - milliseconds to wait, when stopping, for the batches
      that are running (default 30_000)
    * `:hibernate_after`, `:spawn_opt` - given to `GenServer.start_link/3`

  ## Examples

      iex> serving = Nx.Serving.jit(&Nx.multiply(&1, 2))
      iex> {:ok, sup} = Nx.Serving.start_link(serving: serving, name: MyStartedServing, batch_size: 4)
      iex> Nx.Serving.batched_run(MyStartedServing, Nx.Batch.stack([Nx.tensor(21)])) |> Nx.to_list()
      [42]
      iex> Supervisor.stop(sup)
      :ok

  ## Error cases

      iex> serving = Nx.Serving.jit(&Nx.negate/1) |> Nx.Serving.batch_size(4)
      iex> Nx.Serving.start_link(serving: serving, name: MyMismatch, batch_size: 8)
      ** (ArgumentError) the serving's batch_size/2 (4) differs from the :batch_size option (8)
  """
  @spec start_link(keyword) :: Supervisor.on_start()
  def start_link(opts) when is_list(opts) do
    opts = Keyword.validate!(opts, [:name, :serving] ++ @process_keys)
    name = Keyword.fetch!(opts, :name)
    %Nx.Serving{} = serving = Keyword.fetch!(opts, :serving)

    unless is_atom(name) and name != nil do
      raise ArgumentError, ":name must be an atom, got: #{inspect(name)}"
    end

    opts = Keyword.merge(serving.process_options, opts)

    batch_size =
      case {serving.batch_size, opts[:batch_size]} do
        {nil, nil} ->
          1

        {size, nil} ->
          size

        {nil, size} ->
          size

        {size, size} ->
          size

        {serving_size, option} ->
          raise ArgumentError,
                "the serving's batch_size/2 (#{serving_size}) differs from the " <>
                  ":batch_size option (#{option})"
      end

    unless is_integer(batch_size) and batch_size > 0 do
      raise ArgumentError, ":batch_size must be a positive integer, got: #{inspect(batch_size)}"
    end

    batch_timeout = Keyword.get(opts, :batch_timeout, 100)

    unless is_integer(batch_timeout) and batch_timeout >= 0 do
      raise ArgumentError,
            ":batch_timeout must be a non-negative integer, got: #{inspect(batch_timeout)}"
    end

    weight = Keyword.get(opts, :distribution_weight, 1)

    unless is_integer(weight) and weight > 0 do
      raise ArgumentError,
            ":distribution_weight must be a positive integer, got: #{inspect(weight)}"
    end

    batch_keys = Keyword.get(opts, :batch_keys, [:default])

    unless is_list(batch_keys) and batch_keys != [] do
      raise ArgumentError, ":batch_keys must be a non-empty list, got: #{inspect(batch_keys)}"
    end

    partitions? = Keyword.get(opts, :partitions, false)
    shutdown = Keyword.get(opts, :shutdown, 30_000)
    task_supervisor = Module.concat(name, "TaskSupervisor")

    config = %{
      name: name,
      serving: serving,
      partitions?: partitions?,
      batch_keys: batch_keys,
      batch_size: batch_size,
      batch_timeout: batch_timeout,
      weight: weight,
      task_supervisor: task_supervisor
    }

    server_opts = [name: name] ++ Keyword.take(opts, [:hibernate_after, :spawn_opt])

    children = [
      {Task.Supervisor, name: task_supervisor},
      %{
        id: __MODULE__,
        start: {GenServer, :start_link, [__MODULE__, config, server_opts]},
        shutdown: shutdown
      }
    ]

    Supervisor.start_link(children,
      strategy: :one_for_all,
      name: Module.concat(name, "Supervisor")
    )
  end

  @doc """
  Runs `input` on the serving process `name`, batched with the inputs of
  other callers, and returns the reply (see the module documentation).

  `name` is an atom (the serving on this node if there is one, else one
  on a connected node), `{:local, name}` (only this node) or
  `{:distributed, name}` (through distribution, even to this node).
  `distributed_preprocessing` is applied to `input` before it is sent to
  another node (default `Function.identity/1`).

  The client preprocessing and postprocessing run in the calling process,
  or, for distributed calls, on the serving's node. A batch larger than
  the serving's `:batch_size` is split over several executions.

  The caller exits when the serving fails its batch, when the serving
  process dies, or when its node goes down, with
  `{reason, {Nx.Serving, :batched_run, [name, input]}}`; and with reason
  `:noproc` when no serving of that name runs.

  ## Examples

      iex> serving = Nx.Serving.jit(&Nx.add(&1, 1))
      iex> {:ok, sup} = Nx.Serving.start_link(serving: serving, name: MyBatchedServing, batch_size: 8, batch_timeout: 20)
      iex> tasks = for i <- 1..3, do: Task.async(fn -> Nx.Serving.batched_run(MyBatchedServing, Nx.Batch.stack([Nx.tensor(i)])) end)
      iex> tasks |> Task.await_many() |> Enum.map(&Nx.to_list/1)
      [[2], [3], [4]]
      iex> Supervisor.stop(sup)
      :ok

  ## Error cases

      iex> try do
      ...>   Nx.Serving.batched_run({:local, NoSuchServing}, Nx.Batch.stack([1]))
      ...> catch
      ...>   :exit, {reason, {Nx.Serving, :batched_run, _args}} -> reason
      ...> end
      :noproc
  """
  @spec batched_run(atom | {:local, atom} | {:distributed, atom}, term, distributed_preprocessing) ::
          term
  def batched_run(name, input, distributed_preprocessing \\ &Function.identity/1)

  def batched_run(name, input, distributed_preprocessing)
      when is_atom(name) and is_function(distributed_preprocessing, 1) do
    case Process.whereis(name) do
      nil -> distributed_batched_run!(name, name, input, distributed_preprocessing)
      pid -> local_batched_run!(pid, name, name, input)
    end
  end

  def batched_run({:local, name} = target, input, _distributed_preprocessing)
      when is_atom(name) do
    case Process.whereis(name) do
      nil -> exit({:noproc, {__MODULE__, :batched_run, [target, input]}})
      pid -> local_batched_run!(pid, target, name, input)
    end
  end

  def batched_run({:distributed, name} = target, input, distributed_preprocessing)
      when is_atom(name) and is_function(distributed_preprocessing, 1) do
    distributed_batched_run!(target, name, input, distributed_preprocessing)
  end

  defp local_batched_run!(pid, target, name, input) do
    case local_batched_run(pid, name, input) do
      {:ok, result} -> result
      {:DOWN, reason} -> exit({reason, {__MODULE__, :batched_run, [target, input]}})
    end
  end

  defp local_batched_run(pid, name, input) do
    %{
      limit: limit,
      preprocessing: preprocessing,
      postprocessing: postprocessing,
      mode: mode,
      batch_keys: batch_keys
    } = config!(name)

    {batch_or_stream, info} = handle_preprocessing(preprocessing, input)

    case batch_or_stream do
      %Nx.Batch{} = batch ->
        validate_key!(batch, batch_keys)

        if mode == :hooks and batch.size > limit do
          raise ArgumentError,
                "a batch of #{batch.size} entries cannot exceed the serving's batch size " <>
                  "(#{limit}) when streaming hooks"
        end

      _stream when mode == :hooks ->
        raise ArgumentError, "streaming hooks requires a single Nx.Batch as input, not a stream"

      _stream ->
        :ok
    end

    ref = :erlang.monitor(:process, pid, [{:alias, :demonitor}])

    size =
      case batch_or_stream do
        %Nx.Batch{size: size} = batch ->
          send(pid, {__MODULE__, :batched_run, [ref], batch})
          size

        stream ->
          spawn_link(fn -> stream_input(pid, ref, stream, limit, batch_keys) end)
          :unknown
      end

    if mode == :execute do
      case receive_execute(ref, size) do
        {:ok, output, metadata} ->
          {:ok, handle_postprocessing(postprocessing, {output, metadata}, info)}

        {:DOWN, reason} ->
          {:DOWN, reason}
      end
    else
      {:ok,
       handle_postprocessing(postprocessing, receive_stream("batched_run/3", ref, size), info)}
    end
  end

  # Sends the batches of an input stream one at a time: each after the
  # serving finished the previous one. Then tells the caller how many
  # entries there were.
  defp stream_input(pid, ref, stream, limit, batch_keys) do
    monitor = Process.monitor(pid)

    total =
      Enum.reduce(stream, 0, fn
        %Nx.Batch{size: size} = batch, total when size > 0 and size <= limit ->
          validate_key!(batch, batch_keys)
          send(pid, {__MODULE__, :batched_run, [ref, self()], batch})
          await_rows(monitor, ref, size)
          total + size

        other, _total ->
          raise ArgumentError,
                "client_preprocessing must return a stream of non-empty Nx.Batch of at most " <>
                  "#{limit} entries, got: #{inspect(other)}"
      end)

    send(ref, {ref, {:stream_done, total}})
  end

  defp await_rows(_monitor, _ref, 0), do: :ok

  defp await_rows(monitor, ref, pending) do
    receive do
      {^ref, rows} when is_integer(rows) -> await_rows(monitor, ref, pending - rows)
      {:DOWN, ^monitor, _, _, reason} -> exit(reason)
    end
  end

  defp validate_key!(%Nx.Batch{key: key}, batch_keys) do
    unless is_map_key(batch_keys, key) do
      raise ArgumentError,
            "unknown batch key: #{inspect(key)} (the serving accepts " <>
              "#{inspect(Map.keys(batch_keys))})"
    end
  end

  defp config!(name) do
    :persistent_term.get({__MODULE__, name}, nil) ||
      raise ArgumentError,
            "no Nx.Serving named #{inspect(name)} was started on this node"
  end

  ## Distribution

  defp distributed_batched_run!(target, name, input, distributed_preprocessing) do
    encoded = Portable.encode(distributed_preprocessing.(input))
    distributed_batched_run(target, name, input, encoded, 3)
  end

  defp distributed_batched_run(target, _name, input, _encoded, 0) do
    exit({:noproc, {__MODULE__, :batched_run, [target, input]}})
  end

  defp distributed_batched_run(target, name, input, encoded, retries) do
    case members(name) do
      [] ->
        exit({:noproc, {__MODULE__, :batched_run, [target, input]}})

      members ->
        server = Enum.random(members)
        ref = make_ref()
        args = [self(), ref, name, encoded]
        {_, monitor} = Node.spawn_monitor(node(server), __MODULE__, :__distributed_run__, args)

        receive do
          {^ref, :streaming} ->
            remote_stream(ref, monitor)

          {:DOWN, ^monitor, _, _, {^ref, reply}} ->
            Portable.decode(reply)

          {:DOWN, ^monitor, _, _, :noproc} ->
            distributed_batched_run(target, name, input, encoded, retries - 1)

          {:DOWN, ^monitor, _, _, reason} ->
            exit({reason, {__MODULE__, :batched_run, [target, input]}})
        end
    end
  end

  defp remote_stream(ref, monitor) do
    owner = self()

    Stream.resource(
      fn ->
        if self() != owner do
          raise "the stream returned by Nx.Serving.batched_run/3 must be consumed by the " <>
                  "process that called it"
        end

        :ok
      end,
      fn :ok ->
        receive do
          {^ref, event} ->
            {[Portable.decode(event)], :ok}

          {:DOWN, ^monitor, _, _, {^ref, :streaming}} ->
            {:halt, :ok}

          {:DOWN, ^monitor, _, _, reason} ->
            exit({reason, {__MODULE__, :batched_run, []}})
        end
      end,
      fn _ -> :ok end
    )
  end

  @doc false
  # Runs on the serving's node, in a process the caller monitors: its exit
  # reason carries the reply.
  def __distributed_run__(client, ref, name, encoded) do
    pid = Process.whereis(name) || exit(:noproc)

    reply =
      try do
        input = Portable.decode(encoded)

        case local_batched_run(pid, name, input) do
          {:ok, result} ->
            %{mode: mode, distributed_postprocessing: post} = config!(name)

            if mode == :execute do
              {ref, Portable.encode(post.(result))}
            else
              send(client, {ref, :streaming})
              Enum.each(post.(result), &send(client, {ref, Portable.encode(&1)}))
              {ref, :streaming}
            end

          {:DOWN, reason} ->
            reason
        end
      catch
        # Raised errors become the exit reason the caller gets (without an
        # error report here).
        kind, reason -> exit_reason(kind, reason, __STACKTRACE__)
      end

    exit(reply)
  end

  defp members(name) do
    case ensure_pg() do
      :running ->
        :pg.get_members(@pg, {__MODULE__, name})

      :started ->
        # A scope that just started learns the other nodes' members from
        # their replies: give them a moment.
        wait_members(name, 50)
    end
  end

  defp wait_members(name, tries) do
    case :pg.get_members(@pg, {__MODULE__, name}) do
      [] when tries > 0 ->
        Process.sleep(10)
        wait_members(name, tries - 1)

      members ->
        members
    end
  end

  # The :pg scope of servings is started by Nx.Application; when the :nx application is not
  # running (a script that only loads the code), it is started here on first use, outside
  # any supervision tree so that it outlives the process that starts it.
  defp ensure_pg do
    if Process.whereis(@pg) do
      :running
    else
      case :pg.start(@pg) do
        {:ok, _} -> :started
        {:error, {:already_started, _}} -> :running
      end
    end
  end

  ## Receiving replies

  defp receive_execute(ref, size), do: receive_execute(ref, size, 0, [], nil)

  defp receive_execute(ref, size, received, parts, last) do
    case receive_event(ref, size, received) do
      {:size, size} ->
        receive_execute(ref, size, received, parts, last)

      {:batch, {start, rows, output, metadata}} ->
        received = received + rows

        if parts == [] and received == size do
          {:ok, take_rows(output, start, rows), metadata}
        else
          parts = [leaves_rows(output, start, rows) | parts]
          receive_execute(ref, size, received, parts, {output, metadata})
        end

      {:hook, _} ->
        receive_execute(ref, size, received, parts, last)

      :done ->
        case last do
          nil ->
            raise ArgumentError, "client_preprocessing returned an empty stream of batches"

          {template, metadata} ->
            {:ok, parts |> Enum.reverse() |> join_leaves(template), metadata}
        end

      {:DOWN, reason} ->
        {:DOWN, reason}
    end
  end

  # Waits for the next event for `ref`: a batch or hook, `:done` once
  # `size` rows arrived (or the input stream ended), or {:DOWN, reason}.
  defp receive_event(ref, size, size) do
    Process.demonitor(ref, [:flush])
    :done
  end

  defp receive_event(ref, size, received) do
    receive do
      {^ref, {:batch, {_start, rows, _output, _metadata}} = event} ->
        if is_integer(size) and received + rows == size do
          Process.demonitor(ref, [:flush])
        end

        event

      {^ref, {:hook, _} = event} ->
        event

      {^ref, {:stream_done, ^received}} ->
        Process.demonitor(ref, [:flush])
        :done

      {^ref, {:stream_done, total}} ->
        # Rows still on their way: wait for them.
        {:size, total}

      {:DOWN, ^ref, _, _, reason} ->
        # Also sent by the serving on behalf of a batch that failed.
        Process.demonitor(ref, [:flush])
        {:DOWN, reason}
    end
  end

  defp receive_stream(function, ref, size) do
    owner = self()

    Stream.resource(
      fn ->
        if self() != owner do
          raise "the stream returned by Nx.Serving.#{function} must be consumed by the " <>
                  "process that called it"
        end

        {0, size}
      end,
      fn
        :done ->
          {:halt, :done}

        {received, size} ->
          case receive_event(ref, size, received) do
            {:size, size} ->
              {[], {received, size}}

            {:batch, {start, rows, output, metadata}} ->
              {[{:batch, take_rows(output, start, rows), metadata}], {received + rows, size}}

            {:hook, {start, rows, value, hook}} ->
              {[{hook, take_rows(value, start, rows)}], {received, size}}

            :done ->
              {:halt, :done}

            {:DOWN, reason} ->
              exit({reason, {__MODULE__, :streaming, []}})
          end
      end,
      fn _ -> :ok end
    )
  end

  ## Rows of results

  defp take_rows(output, start, rows) do
    Nx.Defn.Composite.traverse(output, fn
      %Nx.Tensor{shape: shape} = tensor when start == 0 and elem(shape, 0) == rows -> tensor
      tensor -> Nx.slice_along_axis(tensor, start, rows, axis: @axis)
    end)
  end

  defp leaves_rows(output, start, rows) do
    output
    |> take_rows(start, rows)
    |> then(&Nx.Defn.Composite.flatten_list([&1]))
  end

  defp join_leaves(parts, template) do
    joined = Enum.zip_with(parts, &Nx.concatenate(&1, axis: @axis))

    {output, []} =
      Nx.Defn.Composite.traverse(template, joined, fn _leaf, [tensor | rest] -> {tensor, rest} end)

    output
  end

  ## Process callbacks

  @behaviour GenServer
  require Logger

  @impl GenServer
  def init(config) do
    Process.flag(:trap_exit, true)

    %{
      name: name,
      serving: serving,
      partitions?: partitions?,
      batch_keys: batch_keys,
      batch_size: batch_size,
      batch_timeout: batch_timeout,
      weight: weight,
      task_supervisor: task_supervisor
    } = config

    partitions = partitions_options(serving, partitions?)
    {mode, partitions, hooks_table} = streaming_mode(serving, partitions)
    partitions = Enum.map(partitions, &Keyword.put(&1, :batch_keys, batch_keys))
    {:ok, module_state} = handle_init(serving.module, :process, serving.arg, partitions)
    count = length(partitions)

    :persistent_term.put({__MODULE__, name}, %{
      limit: batch_size,
      preprocessing: serving.client_preprocessing,
      postprocessing: serving.client_postprocessing,
      distributed_postprocessing: serving.distributed_postprocessing,
      mode: mode,
      batch_keys: Map.new(batch_keys, &{&1, true})
    })

    ensure_pg()
    :ok = :pg.join(@pg, {__MODULE__, name}, List.duplicate(self(), weight * count))

    state = %{
      module: serving.module,
      module_state: module_state,
      limit: batch_size,
      timeout: batch_timeout,
      hooks_table: hooks_table,
      task_supervisor: task_supervisor,
      # Per key: the batch being gathered, newest entry first, with its row
      # count and timer ({ref, timer}, :none, or :done once it timed out
      # with every partition busy, which queued the key in :ready).
      stacks: Map.new(batch_keys, &{&1, {[], 0, :none}}),
      # Per key: full batches waiting for a partition.
      pending: Map.new(batch_keys, &{&1, :queue.new()}),
      # Keys in the order their batches became ready to run.
      ready: :queue.new(),
      free: :queue.from_list(Enum.to_list(0..(count - 1))),
      # Running tasks: monitor ref => {partition, ref_sizes}.
      tasks: %{}
    }

    {:ok, state}
  end

  defp partitions_options(%Nx.Serving{defn_options: defn_options}, true) do
    compiler = Keyword.get(defn_options, :compiler, Nx.Defn.Evaluator)

    unless Code.ensure_loaded?(compiler) and
             function_exported?(compiler, :__partitions_options__, 1) do
      raise ArgumentError,
            "partitions: true needs a compiler with __partitions_options__/1, " <>
              "got: #{inspect(compiler)}"
    end

    case compiler.__partitions_options__(defn_options) do
      [_ | _] = partitions -> Enum.map(partitions, &Keyword.put_new(&1, :compiler, compiler))
      other -> raise "#{inspect(compiler)}.__partitions_options__/1 returned #{inspect(other)}"
    end
  end

  defp partitions_options(%Nx.Serving{defn_options: defn_options}, false), do: [defn_options]

  defp streaming_mode(%Nx.Serving{streaming: nil}, partitions), do: {:execute, partitions, nil}

  defp streaming_mode(%Nx.Serving{streaming: %{hooks: []}}, partitions),
    do: {:batches, partitions, nil}

  defp streaming_mode(%Nx.Serving{streaming: %{hooks: hooks}}, partitions) do
    table = :ets.new(__MODULE__, [:public, :set, read_concurrency: true])

    partitions =
      partitions
      |> Enum.with_index()
      |> Enum.map(fn {options, partition} ->
        callbacks =
          Enum.reduce(hooks, Keyword.get(options, :hooks, %{}), fn hook, acc ->
            Map.put(acc, hook, &send_hook(table, partition, hook, &1))
          end)

        Keyword.put(options, :hooks, callbacks)
      end)

    {:hooks, partitions, table}
  end

  defp send_hook(table, partition, hook, value) do
    for {[ref | _], start, rows} <- :ets.lookup_element(table, partition, 2) do
      send(ref, {ref, {:hook, {start, rows, value, hook}}})
    end
  end

  @impl GenServer
  def handle_info(
        {__MODULE__, :batched_run, [ref | _] = refs, %Nx.Batch{key: key} = batch},
        state
      ) do
    case state.stacks do
      %{^key => {_, count, _}} ->
        state =
          if state.hooks_table != nil and count + batch.size > state.limit do
            # Batches cannot be split when streaming hooks: start a new one.
            close_stack(state, key)
          else
            state
          end

        {:noreply, gather(state, key, refs, batch)}

      %{} ->
        reason = {%ArgumentError{message: "unknown batch key: #{inspect(key)}"}, []}
        send(ref, {:DOWN, ref, :process, self(), reason})
        {:noreply, state}
    end
  end

  def handle_info({:nx_serving_timeout, key, timer_ref}, state) do
    case state.stacks do
      %{^key => {[_ | _] = entries, count, {^timer_ref, _}}} ->
        if :queue.is_empty(state.free) do
          # Every partition is busy: the batch keeps gathering until one is free.
          state = put_in(state.stacks[key], {entries, count, :done})
          {:noreply, %{state | ready: :queue.in(key, state.ready)}}
        else
          {:noreply, close_stack(state, key)}
        end

      %{} ->
        {:noreply, state}
    end
  end

  def handle_info({ref, :done}, %{tasks: tasks} = state) when is_map_key(tasks, ref) do
    Process.demonitor(ref, [:flush])
    {{partition, _}, tasks} = Map.pop(tasks, ref)
    {:noreply, free_partition(%{state | tasks: tasks}, partition)}
  end

  def handle_info({:DOWN, ref, :process, _pid, reason}, %{tasks: tasks} = state)
      when is_map_key(tasks, ref) do
    {{partition, ref_sizes}, tasks} = Map.pop(tasks, ref)
    reply_down(ref_sizes, reason)
    {:noreply, free_partition(%{state | tasks: tasks}, partition)}
  end

  def handle_info({:EXIT, _pid, reason}, state) when reason not in [:normal, :shutdown] do
    {:stop, reason, state}
  end

  def handle_info(message, state) do
    Logger.debug("Nx.Serving ignored a message: #{inspect(message)}")
    {:noreply, state}
  end

  @impl GenServer
  def terminate(_reason, state) do
    # Entries that did not start running fail as if the serving were gone...
    for {_key, {entries, _, _}} <- state.stacks, {[ref | _], _batch} <- entries do
      send(ref, {:DOWN, ref, :process, self(), :noproc})
    end

    for {_key, queue} <- state.pending, {_batch, ref_sizes} <- :queue.to_list(queue) do
      reply_down(ref_sizes, :noproc)
    end

    # ...and running ones finish (within the :shutdown given to the supervisor).
    for {ref, {_partition, ref_sizes}} <- state.tasks do
      receive do
        {^ref, :done} -> Process.demonitor(ref, [:flush])
        {:DOWN, ^ref, :process, _, reason} -> reply_down(ref_sizes, reason)
      end
    end

    :ok
  end

  # Adds a caller's batch to the batch of its key, closing the batch each
  # time it is full (splitting the caller's batch across batches if needed).
  defp gather(state, key, refs, batch) do
    {_, count, _} = Map.fetch!(state.stacks, key)
    room = state.limit - count

    cond do
      batch.size < room ->
        push(state, key, refs, batch)

      batch.size == room ->
        state |> push(key, refs, batch) |> close_stack(key)

      true ->
        {now, later} = Nx.Batch.split(batch, room)
        state = state |> push(key, refs, now) |> close_stack(key)
        gather(state, key, refs, later)
    end
  end

  defp push(state, key, refs, batch) do
    {entries, count, timer} = Map.fetch!(state.stacks, key)

    timer =
      if timer == :none do
        timer_ref = make_ref()
        message = {:nx_serving_timeout, key, timer_ref}
        {timer_ref, Process.send_after(self(), message, state.timeout)}
      else
        timer
      end

    put_in(state.stacks[key], {[{refs, batch} | entries], count + batch.size, timer})
  end

  # The batch of `key` is complete: queue it, and run it if a partition is free.
  defp close_stack(state, key) do
    case Map.fetch!(state.stacks, key) do
      {[], 0, _} ->
        state

      {_, _, timer} ->
        {batch_refs, state} = take_stack(state, key)
        state = update_in(state.pending[key], &:queue.in(batch_refs, &1))
        # A batch that timed out already has its place in :ready.
        state = if timer == :done, do: state, else: %{state | ready: :queue.in(key, state.ready)}
        dispatch(state)
    end
  end

  defp take_stack(state, key) do
    {entries, _count, timer} = Map.fetch!(state.stacks, key)

    with {_ref, timer_ref} <- timer do
      Process.cancel_timer(timer_ref)
    end

    # Entries are newest first: reversing them gives the order of the rows.
    {ref_sizes, batches} =
      Enum.reduce(entries, {[], []}, fn {refs, batch}, {ref_sizes, batches} ->
        {[{refs, batch.size} | ref_sizes], [batch | batches]}
      end)

    {ref_sizes, _} =
      Enum.map_reduce(ref_sizes, 0, fn {refs, size}, start ->
        {{refs, start, size}, start + size}
      end)

    state = put_in(state.stacks[key], {[], 0, :none})
    {{Nx.Batch.merge(batches), ref_sizes}, state}
  end

  defp free_partition(state, partition) do
    dispatch(%{state | free: :queue.in(partition, state.free)})
  end

  # Runs ready batches while partitions are free.
  defp dispatch(state) do
    with false <- :queue.is_empty(state.free),
         {{:value, key}, ready} <- :queue.out(state.ready) do
      {{:value, partition}, free} = :queue.out(state.free)
      state = %{state | ready: ready, free: free}

      case :queue.out(state.pending[key]) do
        {{:value, {batch, ref_sizes}}, queue} ->
          state = put_in(state.pending[key], queue)
          state |> execute(partition, batch, ref_sizes) |> dispatch()

        {:empty, _} ->
          case state.stacks[key] do
            {[_ | _], _, :done} ->
              {{batch, ref_sizes}, state} = take_stack(state, key)
              state |> execute(partition, batch, ref_sizes) |> dispatch()

            _ ->
              # Nothing left for this key (cannot happen): give the partition back.
              dispatch(%{state | free: :queue.in_r(partition, state.free)})
          end
      end
    else
      _ -> state
    end
  end

  defp execute(state, partition, batch, ref_sizes) do
    %{module: module, module_state: module_state} = state

    try do
      handle_batch(module, batch, partition, module_state)
    catch
      kind, reason ->
        # Only the callers of this batch fail; the serving keeps its state.
        reply_down(ref_sizes, exit_reason(kind, reason, __STACKTRACE__))
        %{state | free: :queue.in(partition, state.free)}
    else
      {:execute, function, module_state} ->
        table = state.hooks_table

        run = fn ->
          if table, do: :ets.insert(table, {partition, ref_sizes})
          {output, metadata} = handle_executed(module, function.())

          for {[ref | pids], start, rows} <- ref_sizes do
            send(ref, {ref, {:batch, {start, rows, output, metadata}}})
            for pid <- pids, do: send(pid, {ref, rows})
          end

          :done
        end

        %Task{ref: ref} = Task.Supervisor.async_nolink(state.task_supervisor, run)
        tasks = Map.put(state.tasks, ref, {partition, ref_sizes})
        %{state | module_state: module_state, tasks: tasks}
    end
  end

  defp exit_reason(:error, reason, stacktrace),
    do: {Exception.normalize(:error, reason, stacktrace), stacktrace}

  defp exit_reason(:exit, reason, _stacktrace), do: reason
  defp exit_reason(:throw, value, stacktrace), do: {{:nocatch, value}, stacktrace}

  defp reply_down(ref_sizes, reason) do
    for {[ref | _], _start, _rows} <- ref_sizes do
      send(ref, {:DOWN, ref, :process, self(), reason})
    end
  end

  ## Callback checks

  defp handle_init(module, type, arg, partitions) do
    case module.init(type, arg, partitions) do
      {:ok, _state} = ok ->
        ok

      other ->
        raise ArgumentError,
              "#{inspect(module)}.init/3 must return {:ok, state}, got: #{inspect(other)}"
    end
  end

  defp handle_batch(module, batch, partition, state) do
    case module.handle_batch(batch, partition, state) do
      {:execute, function, _state} = ok when is_function(function, 0) ->
        ok

      other ->
        raise ArgumentError,
              "#{inspect(module)}.handle_batch/3 must return {:execute, function, state}, " <>
                "with a function of no arguments, got: #{inspect(other)}"
    end
  end

  defp handle_executed(_module, {_output, _metadata} = result), do: result

  defp handle_executed(module, other) do
    raise ArgumentError,
          "the function returned by #{inspect(module)}.handle_batch/3 must return " <>
            "{output, server_info}, got: #{inspect(other)}"
  end

  defp handle_preprocessing(nil, input) do
    case input do
      %Nx.Batch{} = batch ->
        {validate_batch!(batch), :client_info}

      other ->
        if Enumerable.impl_for(other) != nil and not is_struct(other, Nx.Tensor) do
          {other, :client_info}
        else
          raise ArgumentError,
                "the default client_preprocessing expects an Nx.Batch or a stream of " <>
                  "Nx.Batch, got: #{inspect(other)}"
        end
    end
  end

  defp handle_preprocessing(preprocessing, input) do
    case preprocessing.(input) do
      {%Nx.Batch{} = batch, info} ->
        {validate_batch!(batch), info}

      {stream, info} = result ->
        if Enumerable.impl_for(stream) != nil and not is_struct(stream, Nx.Tensor) do
          {stream, info}
        else
          bad_preprocessing!(preprocessing, result)
        end

      other ->
        bad_preprocessing!(preprocessing, other)
    end
  end

  defp bad_preprocessing!(preprocessing, result) do
    raise ArgumentError,
          "client_preprocessing #{inspect(preprocessing)} must return {batch, client_info}, " <>
            "where batch is an Nx.Batch or a stream of them, got: #{inspect(result)}"
  end

  defp validate_batch!(%Nx.Batch{size: 0}),
    do: raise(ArgumentError, "cannot run a serving on an empty Nx.Batch")

  defp validate_batch!(batch), do: batch

  defp handle_postprocessing(nil, {output, _metadata}, _info), do: output
  defp handle_postprocessing(nil, stream, _info), do: stream
  defp handle_postprocessing(postprocessing, result, info), do: postprocessing.(result, info)
end
