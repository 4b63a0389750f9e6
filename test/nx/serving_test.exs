defmodule Nx.ServingTest do
  use ExUnit.Case, async: false

  alias Nx.ServingFixtures.Reporter

  @moduletag :capture_log

  doctest Nx.Serving

  defp unique_name, do: :"nx_serving_test_#{System.unique_integer([:positive])}"

  defp start_serving(serving, opts) do
    name = unique_name()
    start_supervised!({Nx.Serving, [serving: serving, name: name] ++ opts})
    name
  end

  defp reporter(opts \\ []), do: Nx.ServingFixtures.reporter(self(), opts)

  defp batched_calls do
    receive do
      {:handle_batch, _pid, size, _key, _partition, _node} -> [size | batched_calls()]
    after
      0 -> []
    end
  end

  # Runs fun in a process and returns {:ok, result} or {:exit, reason}.
  defp attempt(fun) do
    Task.async(fn ->
      try do
        {:ok, fun.()}
      catch
        :exit, reason -> {:exit, reason}
      end
    end)
  end

  defp stack(values), do: Nx.Batch.stack(Enum.map(values, &Nx.tensor/1))

  describe "run/2" do
    test "with a jitted function" do
      serving = Nx.Serving.jit(&Nx.multiply(&1, 2))
      assert Nx.Serving.run(serving, stack([1, 2, 3])) |> Nx.to_list() == [2, 4, 6]
    end

    test "splits batches larger than batch_size and joins containers" do
      parent = self()

      serving =
        Nx.Serving.new(fn opts ->
          f = Nx.Defn.jit(fn t -> {Nx.negate(t), %{sq: Nx.multiply(t, t)}} end, opts)

          fn batch ->
            send(parent, {:size, batch.size})
            f.(batch)
          end
        end)
        |> Nx.Serving.batch_size(2)

      {neg, %{sq: sq}} = Nx.Serving.run(serving, stack([1, 2, 3, 4, 5]))
      assert Nx.to_list(neg) == [-1, -2, -3, -4, -5]
      assert Nx.to_list(sq) == [1, 4, 9, 16, 25]
      assert_received {:size, 2}
      assert_received {:size, 2}
      assert_received {:size, 1}
    end

    test "passes defn options to the function" do
      serving =
        Nx.Serving.new(fn opts -> send(self(), {:opts, opts}) && Nx.Defn.jit(&Nx.negate/1) end,
          foo: 1
        )

      Nx.Serving.run(serving, stack([1]))
      assert_received {:opts, opts}
      assert opts[:foo] == 1
      refute Keyword.has_key?(opts, :batch_keys)
    end

    test "a custom serving is initialized inline with the partitions' options" do
      serving =
        Nx.Serving.new(Reporter, [pid: self()], compiler: Nx.Defn.Evaluator)
        |> Nx.Serving.client_postprocessing(&{&1, &2})

      assert {{output, info}, :client_info} = Nx.Serving.run(serving, stack([1, 2]))
      assert Nx.to_list(output) == [2, 4]
      assert info == %{node: node(), partition: 0, size: 2}
      assert_received {:init, :inline, [opts], _}
      assert opts[:batch_keys] == [:default]
      assert opts[:compiler] == Nx.Defn.Evaluator
    end

    test "a padded batch gives unpadded results" do
      serving =
        Nx.Serving.new(fn opts ->
          f = Nx.Defn.jit(&Nx.add(&1, 1), opts)
          fn batch -> f.(Nx.Batch.pad(batch, 4 - batch.size)) end
        end)

      assert Nx.Serving.run(serving, stack([1, 2])) |> Nx.to_list() == [2, 3]
    end

    test "a stream of batches from the client preprocessing" do
      serving =
        Nx.Serving.jit(&Nx.multiply(&1, 10))
        |> Nx.Serving.client_preprocessing(fn list ->
          {Stream.map(Enum.chunk_every(list, 2), &stack/1), :info}
        end)

      assert Nx.Serving.run(serving, [1, 2, 3, 4, 5]) |> Nx.to_list() == [10, 20, 30, 40, 50]
    end

    test "streaming with hooks" do
      serving =
        Nx.Serving.new(fn opts ->
          Nx.Defn.jit(
            fn t -> t |> Nx.add(1) |> Nx.Defn.Kernel.hook(:plus_one) |> Nx.multiply(2) end,
            opts
          )
        end)
        |> Nx.Serving.streaming(hooks: [:plus_one])

      events =
        Nx.Serving.run(serving, stack([1, 2]))
        |> Enum.map(fn
          {:batch, output, :server_info} -> {:batch, Nx.to_list(output)}
          {:plus_one, value} -> {:plus_one, Nx.to_list(value)}
        end)

      assert events == [{:plus_one, [2, 3]}, {:batch, [4, 6]}]
    end

    test "hooks given in defn options still run when not streamed" do
      parent = self()
      hooks = %{seen: &send(parent, {:seen, Nx.to_list(&1)})}

      serving = Nx.Serving.jit(&Nx.Defn.Kernel.hook(Nx.negate(&1), :seen), hooks: hooks)

      assert Nx.Serving.run(serving, stack([1])) |> Nx.to_list() == [-1]
      assert_received {:seen, [-1]}
    end

    test "errors" do
      assert_raise ArgumentError, ~r/empty Nx.Batch/, fn ->
        Nx.Serving.run(Nx.Serving.jit(&Nx.negate/1), Nx.Batch.new())
      end

      serving = Nx.Serving.jit(&Nx.negate/1) |> Nx.Serving.client_preprocessing(&{&1})

      assert_raise ArgumentError, ~r/must return {batch, client_info}/, fn ->
        Nx.Serving.run(serving, stack([1]))
      end

      assert_raise ArgumentError, ~r/handle_batch\/3 must return/, fn ->
        defmodule BadServing do
          @behaviour Nx.Serving
          def init(_, _, _), do: {:ok, nil}
          def handle_batch(_, _, _), do: :nope
        end

        Nx.Serving.run(Nx.Serving.new(BadServing, nil), stack([1]))
      end
    end
  end

  describe "batched_run/3" do
    test "many concurrent callers are merged into few batches" do
      name = start_serving(reporter(), batch_size: 8, batch_timeout: 200)

      results =
        1..64
        |> Enum.map(fn i -> attempt(fn -> Nx.Serving.batched_run(name, stack([i])) end) end)
        |> Task.await_many(10_000)

      for {{:ok, {output, info}}, i} <- Enum.with_index(results, 1) do
        assert Nx.to_list(output) == [2 * i]
        assert info.size <= 8
      end

      sizes = batched_calls()
      assert Enum.sum(sizes) == 64
      assert Enum.all?(sizes, &(&1 <= 8))
      # 64 callers in 8s: with merging there are far fewer calls than callers.
      assert length(sizes) <= 16, "#{length(sizes)} handle_batch calls: #{inspect(sizes)}"
    end

    test "a caller's batch larger than batch_size is split and joined back" do
      name = start_serving(reporter(), batch_size: 2, batch_timeout: 10)
      {output, _info} = Nx.Serving.batched_run(name, stack([1, 2, 3, 4, 5]))
      assert Nx.to_list(output) == [2, 4, 6, 8, 10]
      assert batched_calls() == [2, 2, 1]
    end

    test "callers sharing a batch each get their own rows, concatenated entries too" do
      name = start_serving(reporter(), batch_size: 6, batch_timeout: 100)

      a = attempt(fn -> Nx.Serving.batched_run(name, Nx.Batch.concatenate([Nx.iota({4})])) end)
      b = attempt(fn -> Nx.Serving.batched_run(name, stack([10, 11, 12])) end)

      assert {:ok, {out_a, _}} = Task.await(a)
      assert {:ok, {out_b, _}} = Task.await(b)
      assert Nx.to_list(out_a) == [0, 2, 4, 6]
      assert Nx.to_list(out_b) == [20, 22, 24]
      assert Enum.sum(batched_calls()) == 7
    end

    test "padding to the batch size compiles one shape and is taken off" do
      parent = self()

      serving =
        Nx.Serving.new(fn opts ->
          f = Nx.Defn.jit(&Nx.add(&1, 100), opts)

          fn batch ->
            out = f.(Nx.Batch.pad(batch, 4 - batch.size))
            send(parent, {:shape, Nx.shape(out)})
            out
          end
        end)

      name = start_serving(serving, batch_size: 4, batch_timeout: 20)

      tasks = for i <- 1..6, do: attempt(fn -> Nx.Serving.batched_run(name, stack([i])) end)
      results = Task.await_many(tasks)
      assert Enum.map(results, fn {:ok, t} -> Nx.to_list(t) end) == for(i <- 1..6, do: [100 + i])
      shapes = for _ <- 1..2, do: assert_received({:shape, shape}) && shape
      assert shapes == [{4}, {4}]
      refute_received {:shape, _}
    end

    test "batch_timeout runs a partial batch" do
      name = start_serving(reporter(), batch_size: 10, batch_timeout: 50)
      {time, {output, info}} = :timer.tc(fn -> Nx.Serving.batched_run(name, stack([7])) end)
      assert Nx.to_list(output) == [14]
      assert info.size == 1
      assert time >= 50_000
      assert time < 5_000_000
    end

    test "a full batch does not wait for the timeout" do
      name = start_serving(reporter(), batch_size: 2, batch_timeout: 60_000)
      {time, {output, _}} = :timer.tc(fn -> Nx.Serving.batched_run(name, stack([1, 2])) end)
      assert Nx.to_list(output) == [2, 4]
      assert time < 30_000_000
    end

    test "batch keys are batched separately" do
      serving =
        Nx.Serving.new(fn
          :double, opts -> Nx.Defn.jit(&Nx.multiply(&1, 2), opts)
          :negate, opts -> Nx.Defn.jit(&Nx.negate/1, opts)
        end)

      name =
        start_serving(serving, batch_size: 4, batch_timeout: 50, batch_keys: [:double, :negate])

      tasks =
        for i <- 1..6 do
          key = if rem(i, 2) == 0, do: :double, else: :negate
          attempt(fn -> Nx.Serving.batched_run(name, stack([i]) |> Nx.Batch.key(key)) end)
        end

      results = Enum.map(Task.await_many(tasks), fn {:ok, t} -> Nx.to_list(t) end)
      assert results == [[-1], [4], [-3], [8], [-5], [12]]

      assert_raise ArgumentError, ~r/unknown batch key: :default/, fn ->
        Nx.Serving.batched_run(name, stack([1]))
      end
    end

    test "custom serving: init in the process with batch keys" do
      _name = start_serving(reporter(), batch_size: 2, batch_keys: [:a, :b])
      assert_received {:init, :process, [opts], _}
      assert opts[:batch_keys] == [:a, :b]
    end

    test "partitions: one per compiler partition, running at the same time" do
      serving =
        Nx.Serving.new(Reporter, [pid: self(), sleep: 300], max_concurrency: 2)
        |> Nx.Serving.client_postprocessing(fn {output, info}, _ -> {output, info} end)

      name = start_serving(serving, batch_size: 1, batch_timeout: 10, partitions: true)
      assert_received {:init, :process, [_, _], _}

      {time, results} =
        :timer.tc(fn ->
          [
            attempt(fn -> Nx.Serving.batched_run(name, stack([-3])) end),
            attempt(fn -> Nx.Serving.batched_run(name, stack([-3])) end)
          ]
          |> Task.await_many()
        end)

      partitions = for {:ok, {_, info}} <- results, do: info.partition
      assert Enum.sort(partitions) == [0, 1]
      # Both slept 300 ms at the same time.
      assert time < 600_000
    end

    test "streaming batches and hooks from a serving process" do
      serving =
        Nx.Serving.new(fn opts ->
          Nx.Defn.jit(fn t -> t |> Nx.add(1) |> Nx.Defn.Kernel.hook(:plus_one) end, opts)
        end)
        |> Nx.Serving.streaming(hooks: [:plus_one])

      name = start_serving(serving, batch_size: 4, batch_timeout: 50)

      tasks =
        for i <- [1, 10] do
          attempt(fn ->
            Nx.Serving.batched_run(name, stack([i, i + 1]))
            |> Enum.map(fn
              {:batch, value, :server_info} -> {:batch, Nx.to_list(value)}
              {:plus_one, value} -> {:plus_one, Nx.to_list(value)}
            end)
          end)
        end

      assert [{:ok, a}, {:ok, b}] = Task.await_many(tasks)
      # Both callers are in the same batch: each gets its rows of the hook's value.
      assert a == [{:plus_one, [2, 3]}, {:batch, [2, 3]}]
      assert b == [{:plus_one, [11, 12]}, {:batch, [11, 12]}]

      assert_raise ArgumentError, ~r/cannot exceed the serving's batch size \(4\)/, fn ->
        Nx.Serving.batched_run(name, stack([1, 2, 3, 4, 5]))
      end
    end

    test "streaming batches" do
      serving = Nx.Serving.jit(&Nx.negate/1) |> Nx.Serving.streaming()
      name = start_serving(serving, batch_size: 2, batch_timeout: 10)

      events =
        Nx.Serving.batched_run(name, stack([1, 2, 3]))
        |> Enum.map(fn {:batch, value, :server_info} -> Nx.to_list(value) end)

      assert events == [[-1, -2], [-3]]
    end

    test "input streams are sent batch by batch" do
      serving =
        reporter()
        |> Nx.Serving.client_preprocessing(fn list ->
          {Stream.map(Enum.chunk_every(list, 2), &stack/1), :info}
        end)

      name = start_serving(serving, batch_size: 2, batch_timeout: 10)
      {output, _} = Nx.Serving.batched_run(name, [1, 2, 3, 4, 5])
      assert Nx.to_list(output) == [2, 4, 6, 8, 10]
      assert batched_calls() == [2, 2, 1]
    end

    test "process options from the serving, overridden by start options" do
      serving = reporter() |> Nx.Serving.process_options(batch_size: 3, batch_timeout: 10)
      name = start_serving(serving, batch_timeout: 20)
      {output, info} = Nx.Serving.batched_run(name, stack([1, 2, 3, 4]))
      assert Nx.to_list(output) == [2, 4, 6, 8]
      assert info.size == 1
      assert batched_calls() == [3, 1]
    end

    test "hibernate_after and spawn_opt reach the process" do
      name = start_serving(reporter(), hibernate_after: 10, spawn_opt: [fullsweep_after: 5])
      Process.sleep(100)
      pid = Process.whereis(name)
      assert Process.info(pid, :current_function) == {:current_function, {:erlang, :hibernate, 3}}
      {:garbage_collection, gc} = Process.info(pid, :garbage_collection)
      assert gc[:fullsweep_after] == 5
      {output, _} = Nx.Serving.batched_run(name, stack([1]))
      assert Nx.to_list(output) == [2]
    end
  end

  describe "failures" do
    defp expect_exit({:exit, {reason, {Nx.Serving, :batched_run, _}}}), do: reason

    test "an exception in handle_batch fails only that batch's callers" do
      name = start_serving(reporter(), batch_size: 2, batch_timeout: 60_000)
      pid = Process.whereis(name)

      bad = [
        attempt(fn -> Nx.Serving.batched_run(name, stack([-1])) end),
        attempt(fn -> Nx.Serving.batched_run(name, stack([1])) end)
      ]

      for result <- Task.await_many(bad) do
        assert {%RuntimeError{message: "handle_batch failed on purpose"}, [_ | _]} =
                 expect_exit(result)
      end

      good = [
        attempt(fn -> Nx.Serving.batched_run(name, stack([3])) end),
        attempt(fn -> Nx.Serving.batched_run(name, stack([4])) end)
      ]

      assert [{:ok, {a, _}}, {:ok, {b, _}}] = Task.await_many(good)
      assert {Nx.to_list(a), Nx.to_list(b)} == {[6], [8]}
      assert Process.whereis(name) == pid
    end

    test "an exception in the executed function fails only that batch's callers" do
      name = start_serving(reporter(), batch_size: 2, batch_timeout: 60_000)
      pid = Process.whereis(name)

      bad = [
        attempt(fn -> Nx.Serving.batched_run(name, stack([-2])) end),
        attempt(fn -> Nx.Serving.batched_run(name, stack([5])) end)
      ]

      for result <- Task.await_many(bad) do
        assert {%RuntimeError{message: "execution failed on purpose"}, [_ | _]} =
                 expect_exit(result)
      end

      {output, _} = Nx.Serving.batched_run(name, stack([1, 2]))
      assert Nx.to_list(output) == [2, 4]
      assert Process.whereis(name) == pid
    end

    test "a failing part of a split batch fails its caller, not the others" do
      name = start_serving(reporter(), batch_size: 2, batch_timeout: 60_000)
      # The caller's 3 rows go into two batches; the first one fails.
      bad = attempt(fn -> Nx.Serving.batched_run(name, stack([-2, 1, 2])) end)
      assert {%RuntimeError{}, _} = expect_exit(Task.await(bad))

      # The row left over waits in the next batch, which another caller fills.
      {output, _} = Nx.Serving.batched_run(name, stack([7]))
      assert Nx.to_list(output) == [14]
    end

    test "callers exit when the serving process dies, and it restarts" do
      name = start_serving(reporter(sleep: 5_000), batch_size: 2, batch_timeout: 60_000)
      pid = Process.whereis(name)

      running = attempt(fn -> Nx.Serving.batched_run(name, stack([-3, 1])) end)
      assert_receive {:handle_batch, _, 2, _, _, _}, 5_000
      waiting = attempt(fn -> Nx.Serving.batched_run(name, stack([1])) end)
      Process.sleep(50)

      Process.exit(pid, :kill)
      assert expect_exit(Task.await(running)) == :killed
      assert expect_exit(Task.await(waiting)) == :killed

      wait_until(fn -> Process.whereis(name) not in [nil, pid] end)
      {output, _} = Nx.Serving.batched_run(name, stack([1, 2]))
      assert Nx.to_list(output) == [2, 4]
    end

    test "stopping fails the entries still gathering and waits for running ones" do
      serving = reporter(sleep: 300)
      name = unique_name()

      {:ok, sup} =
        Supervisor.start_link(
          [{Nx.Serving, serving: serving, name: name, batch_size: 2, batch_timeout: 60_000}],
          strategy: :one_for_one
        )

      running = attempt(fn -> Nx.Serving.batched_run(name, stack([-3, 1])) end)
      assert_receive {:handle_batch, _, 2, _, _, _}, 5_000
      gathering = attempt(fn -> Nx.Serving.batched_run(name, stack([1])) end)
      Process.sleep(50)

      Supervisor.stop(sup)
      assert {:ok, {output, _}} = Task.await(running)
      assert Nx.to_list(output) == [-6, 2]
      assert expect_exit(Task.await(gathering)) == :noproc
    end

    test "shutdown bounds the wait for running batches" do
      serving = reporter(sleep: 5_000)
      name = unique_name()

      {:ok, sup} =
        Supervisor.start_link(
          [{Nx.Serving, serving: serving, name: name, batch_size: 1, shutdown: 100}],
          strategy: :one_for_one
        )

      running = attempt(fn -> Nx.Serving.batched_run(name, stack([-3])) end)
      assert_receive {:handle_batch, _, 1, _, _, _}, 5_000

      {time, :ok} = :timer.tc(fn -> Supervisor.stop(sup) end)
      assert time < 3_000_000
      assert expect_exit(Task.await(running)) in [:killed, :shutdown]
    end

    test "a caller that dies does not disturb the others" do
      name = start_serving(reporter(), batch_size: 3, batch_timeout: 100)

      {pid, monitor} = spawn_monitor(fn -> Nx.Serving.batched_run(name, stack([1])) end)

      Process.exit(pid, :kill)
      assert_receive {:DOWN, ^monitor, _, _, :killed}

      {output, _} = Nx.Serving.batched_run(name, stack([2, 3]))
      assert Nx.to_list(output) == [4, 6]
    end

    test "no serving of that name" do
      assert {:noproc, {Nx.Serving, :batched_run, _}} =
               catch_exit(Nx.Serving.batched_run(:no_such_serving, stack([1])))

      assert {:noproc, {Nx.Serving, :batched_run, _}} =
               catch_exit(Nx.Serving.batched_run({:local, :no_such_serving}, stack([1])))
    end

    test "invalid start options" do
      serving = reporter()

      assert_raise ArgumentError, ~r/distribution_weight/, fn ->
        Nx.Serving.start_link(serving: serving, name: unique_name(), distribution_weight: 0)
      end

      assert_raise ArgumentError, ~r/unknown keys \[:bad\]/, fn ->
        Nx.Serving.start_link(serving: serving, name: unique_name(), bad: 1)
      end

      assert_raise ArgumentError, ~r/:serving option/, fn ->
        Nx.Serving.child_spec(name: :foo)
      end
    end
  end

  defp wait_until(fun, tries \\ 200) do
    cond do
      fun.() -> :ok
      tries == 0 -> flunk("condition not met in time")
      true -> Process.sleep(25) && wait_until(fun, tries - 1)
    end
  end
end

defmodule Nx.ServingDistributedTest do
  # Two-node tests: peer nodes started here (with :peer) on this machine load
  # the project's beams and NIF. Distribution is started if needed.
  # Exclude them with `mix test --exclude distributed`.
  use ExUnit.Case, async: false

  @moduletag :distributed
  @moduletag :capture_log

  defp unique_name, do: :"nx_serving_test_#{System.unique_integer([:positive])}"

  defp start_serving(serving, opts) do
    name = unique_name()
    start_supervised!({Nx.Serving, [serving: serving, name: name] ++ opts})
    name
  end

  defp reporter(opts \\ []), do: Nx.ServingFixtures.reporter(self(), opts)

  defp attempt(fun) do
    Task.async(fn ->
      try do
        {:ok, fun.()}
      catch
        :exit, reason -> {:exit, reason}
      end
    end)
  end

  defp stack(values), do: Nx.Batch.stack(Enum.map(values, &Nx.tensor/1))

  defp wait_until(fun, tries \\ 400) do
    cond do
      fun.() -> :ok
      tries == 0 -> flunk("condition not met in time")
      true -> Process.sleep(25) && wait_until(fun, tries - 1)
    end
  end

  setup_all do
    ensure_distributed!()
    # Peers stop when this process (the one running setup_all) exits.
    [peer_a: start_peer(), peer_b: start_peer()]
  end

  defp ensure_distributed! do
    unless Node.alive?() do
      {_, 0} = System.cmd("epmd", ["-daemon"])
      name = :"nx_serving_test_#{System.unique_integer([:positive])}@127.0.0.1"
      {:ok, _} = :net_kernel.start([name, :longnames])
    end

    :ok
  end

  defp start_peer do
    name = :"nx_serving_peer_#{System.unique_integer([:positive])}"
    paths = Enum.flat_map(:code.get_path(), &[~c"-pa", &1])

    {:ok, peer, node} =
      :peer.start_link(%{
        name: name,
        host: ~c"127.0.0.1",
        longnames: true,
        args: paths ++ [~c"-setcookie", Atom.to_charlist(Node.get_cookie())]
      })

    {:ok, _} = :erpc.call(node, Application, :ensure_all_started, [:nx])
    # Failures on purpose would print there; the callers here check them.
    :ok = :erpc.call(node, :logger, :set_primary_config, [:level, :none])
    {peer, node}
  end

  defp members(name) do
    case :pg.start(Nx.Serving.PG) do
      {:ok, _} -> :ok
      {:error, {:already_started, _}} -> :ok
    end

    :pg.get_members(Nx.Serving.PG, {Nx.Serving, name})
  end

  test "{:distributed, name} goes through :pg even to this node" do
    name = start_serving(reporter(), batch_size: 2, batch_timeout: 10)
    {output, info} = Nx.Serving.batched_run({:distributed, name}, stack([1, 2, 3]))
    assert Nx.to_list(output) == [2, 4, 6]
    assert info.node == node()
  end

  test "a serving on another node, with tensors copied both ways", %{peer_a: {_, node}} do
    name = unique_name()
    :erpc.call(node, Nx.ServingFixtures, :start_reporter, [self(), name, [batch_size: 4]])
    wait_until(fn -> length(members(name)) == 1 end)

    {output, info} = Nx.Serving.batched_run(name, stack([1, 2, 3]))
    assert info.node == node
    assert Nx.to_list(output) == [2, 4, 6]
    assert Nx.to_list(Nx.add(output, 1)) == [3, 5, 7]
    assert_received {:init, :process, _, ^node}

    # Concurrent remote callers are batched there too.
    tasks = for i <- 1..8, do: attempt(fn -> Nx.Serving.batched_run(name, stack([i])) end)
    outputs = for {:ok, {t, _}} <- Task.await_many(tasks), do: Nx.to_list(t)
    assert outputs == for(i <- 1..8, do: [2 * i])
  end

  test "distributed postprocessing runs on the serving's node", %{peer_a: {_, node}} do
    name = unique_name()
    :erpc.call(node, Nx.ServingFixtures, :start_negate, [name, []])
    wait_until(fn -> length(members(name)) == 1 end)

    assert {:post, ^node, output} = Nx.Serving.batched_run(name, stack([1, 2, 3]))
    assert Nx.to_list(output) == [-1, -2, -3]
  end

  test "streaming from another node", %{peer_b: {_, node}} do
    name = unique_name()
    :erpc.call(node, Nx.ServingFixtures, :start_negate, [name, [streaming: true]])
    wait_until(fn -> length(members(name)) == 1 end)

    stream = Nx.Serving.batched_run(name, stack([1, 2, 3]))
    # Events are postprocessed there and copied here as they come.
    events = for {:post, ^node, {:batch, output, :server_info}} <- stream, do: Nx.to_list(output)

    assert events == [[-1, -2], [-3]]
  end

  test "requests spread by distribution weight", %{peer_a: {_, a}, peer_b: {_, b}} do
    name = unique_name()
    opts = [batch_size: 1, batch_timeout: 1]
    :erpc.call(a, Nx.ServingFixtures, :start_reporter, [self(), name, opts])

    :erpc.call(b, Nx.ServingFixtures, :start_reporter, [
      self(),
      name,
      [distribution_weight: 3] ++ opts
    ])

    wait_until(fn -> length(members(name)) == 4 end)

    nodes =
      for _ <- 1..200 do
        {_output, info} = Nx.Serving.batched_run({:distributed, name}, stack([1]))
        info.node
      end

    freq = Enum.frequencies(nodes)
    assert freq[a] + freq[b] == 200
    # Expected 50 and 150.
    assert freq[a] in 20..85, inspect(freq)
    assert freq[b] in 115..180, inspect(freq)
  end

  test "errors on the remote serving reach the caller", %{peer_a: {_, node}} do
    name = unique_name()
    :erpc.call(node, Nx.ServingFixtures, :start_reporter, [self(), name, [batch_size: 1]])
    wait_until(fn -> length(members(name)) == 1 end)

    assert {{%RuntimeError{message: "execution failed on purpose"}, _}, _} =
             catch_exit(Nx.Serving.batched_run(name, stack([-2])))

    # Preprocessing runs on the serving's node: so do its exceptions.
    batch = stack([1]) |> Nx.Batch.key(:unknown)

    assert {{%ArgumentError{message: "unknown batch key: :unknown" <> _}, _}, _} =
             catch_exit(Nx.Serving.batched_run(name, batch))
  end

  test "a caller whose serving's node goes down gets an error, not a hang" do
    {peer, node} = start_peer()
    name = unique_name()

    :erpc.call(node, Nx.ServingFixtures, :start_reporter, [
      self(),
      name,
      [batch_size: 1, sleep: 60_000]
    ])

    wait_until(fn -> length(members(name)) == 1 end)

    caller = attempt(fn -> Nx.Serving.batched_run(name, stack([-3])) end)
    assert_receive {:handle_batch, _, 1, _, _, ^node}, 10_000
    :peer.stop(peer)

    assert {:exit, {:noconnection, {Nx.Serving, :batched_run, _}}} = Task.await(caller, 10_000)
    wait_until(fn -> members(name) == [] end)

    assert {:noproc, _} = catch_exit(Nx.Serving.batched_run(name, stack([1])))
  end
end
