defmodule Nx.Torch.CUDATest do
  # Runs only where LibTorch sees a CUDA device (test_helper.exs excludes :cuda otherwise):
  # set up with `NX_TORCH_CUDA=1 make test` on a GPU machine.
  use ExUnit.Case, async: true
  import Nx.Testing

  @moduletag :cuda

  @cuda {Nx.Torch.Backend, device: {:cuda, 0}}

  test "tensors live on the device and come back unchanged" do
    t = Nx.tensor([[1.5, -2.0], [3.25, 4.0]], backend: @cuda)
    assert %Nx.Torch.Backend{device: {:cuda, 0}} = t.data
    assert Nx.to_list(t) == [[1.5, -2.0], [3.25, 4.0]]
    assert Nx.Torch.memory_stats()[{:cuda, 0}].tensors >= 1
  end

  test "element-wise ops, reductions and dot agree with the CPU" do
    cpu = Nx.iota({64, 64}, type: :f32) |> Nx.divide(64)
    gpu = Nx.backend_copy(cpu, @cuda)
    assert_all_close(Nx.backend_transfer(Nx.tanh(gpu), Nx.Torch.Backend), Nx.tanh(cpu))

    assert_all_close(
      Nx.backend_transfer(Nx.sum(gpu, axes: [1]), Nx.Torch.Backend),
      Nx.sum(cpu, axes: [1])
    )

    assert_all_close(
      Nx.backend_transfer(Nx.dot(gpu, gpu), Nx.Torch.Backend),
      Nx.dot(cpu, cpu),
      rtol: 1.0e-3
    )
  end

  test "unsigned and half types keep Nx semantics on the device" do
    t = Nx.tensor([18_446_744_073_709_551_615, 1], type: :u64, backend: @cuda)
    assert Nx.to_list(Nx.reduce_max(t)) == 18_446_744_073_709_551_615
    h = Nx.tensor([1.5, 2.5], type: :f16, backend: @cuda)
    assert Nx.to_list(Nx.add(h, h)) == [3.0, 5.0]
  end

  test "mixing devices raises a clear error" do
    assert_raise ArgumentError, ~r/different devices/, fn ->
      Nx.add(Nx.iota({4}, backend: @cuda), Nx.iota({4}))
    end
  end

  test "compiled defn runs on the device" do
    f = Nx.Defn.jit(&Nx.multiply(Nx.exp(&1), 2.0), compiler: Nx.Torch)
    t = Nx.tensor([0.0, 1.0], backend: @cuda)
    assert_all_close(Nx.backend_transfer(f.(t), Nx.Torch.Backend), Nx.tensor([2.0, 5.4365635]))
  end
end
