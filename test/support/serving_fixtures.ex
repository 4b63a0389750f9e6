defmodule Nx.ServingFixtures do
  # Servings for test/nx/serving_test.exs, compiled with the test support files
  # so that peer nodes started by the tests (which load the project's beams)
  # have them too.
  @moduledoc false

  defmodule Reporter do
    # A custom serving that doubles its input and reports every call to
    # `:pid`. Entries select a behaviour: -1 raises in handle_batch/3, -2
    # raises in the executed function, -3 sleeps `:sleep` ms (default 2000)
    # in it. The server info is %{node, partition, size}.
    @moduledoc false
    @behaviour Nx.Serving

    @impl true
    def init(type, opts, partitions) do
      pid = Keyword.fetch!(opts, :pid)
      send(pid, {:init, type, partitions, node()})
      {:ok, %{pid: pid, sleep: Keyword.get(opts, :sleep, 2000), calls: 0}}
    end

    @impl true
    def handle_batch(batch, partition, state) do
      values = Nx.Defn.jit_apply(&Function.identity/1, [batch]) |> Nx.to_flat_list()
      send(state.pid, {:handle_batch, self(), batch.size, batch.key, partition, node()})

      if -1 in values, do: raise("handle_batch failed on purpose")

      fun = fn ->
        if -2 in values, do: raise("execution failed on purpose")
        if -3 in values, do: Process.sleep(state.sleep)
        output = Nx.Defn.jit_apply(&Nx.multiply(&1, 2), [batch])
        {output, %{node: node(), partition: partition, size: batch.size}}
      end

      {:execute, fun, %{state | calls: state.calls + 1}}
    end
  end

  @doc false
  def reporter(pid, opts \\ []) do
    Nx.Serving.new(Reporter, [pid: pid] ++ opts)
    |> Nx.Serving.client_postprocessing(fn {output, info}, _client -> {output, info} end)
  end

  @doc false
  # Starts a serving under a supervisor owned by a process of its own, so
  # that it outlives the caller (an :erpc call from another node). Returns
  # the supervisor's pid.
  def start_detached(serving_opts) do
    parent = self()

    spawn(fn ->
      {:ok, sup} = Supervisor.start_link([{Nx.Serving, serving_opts}], strategy: :one_for_one)
      send(parent, {:started, sup})
      Process.sleep(:infinity)
    end)

    receive do
      {:started, sup} -> sup
    after
      30_000 -> raise "the serving did not start"
    end
  end

  @doc false
  # A negating serving, optionally streaming, with a distributed
  # postprocessing that tags replies with the node that ran them.
  def start_negate(name, opts) do
    serving =
      if opts[:streaming] do
        Nx.Serving.jit(&Nx.negate/1)
        |> Nx.Serving.streaming()
        |> Nx.Serving.distributed_postprocessing(&Stream.map(&1, fn e -> {:post, node(), e} end))
      else
        Nx.Serving.jit(&Nx.negate/1)
        |> Nx.Serving.distributed_postprocessing(&{:post, node(), &1})
      end

    start_detached(serving: serving, name: name, batch_size: 2, batch_timeout: 10)
  end

  @doc false
  def start_reporter(pid, name, opts) do
    {serving_opts, reporter_opts} =
      Keyword.split(opts, [:batch_size, :batch_timeout, :distribution_weight])

    start_detached([serving: reporter(pid, reporter_opts), name: name] ++ serving_opts)
  end
end
