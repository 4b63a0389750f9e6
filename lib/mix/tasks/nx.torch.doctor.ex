defmodule Mix.Tasks.Nx.Torch.Doctor do
  @shortdoc "Prints how the LibTorch engine is set up and why CUDA is (un)available"

  @moduledoc """
  Prints the LibTorch version and path, the thread count, the set-up
  variant (CPU-only or CUDA), whether the NVIDIA driver and LibTorch's CUDA
  library could be loaded, the CUDA devices with their memory, and, when
  CUDA cannot be used, why.

      $ mix nx.torch.doctor
  """
  use Mix.Task

  @impl true
  def run(_args) do
    Mix.Task.run("app.config")
    Application.ensure_all_started(:nx)
    info = Nx.Torch.info()
    devices = Nx.Torch.cuda_devices()

    variant =
      if info.cuda_library == :loaded,
        do: "CUDA (libtorch_cuda loaded)",
        else: "CPU-only (libtorch_cuda not loaded)"

    lines = [
      {"LibTorch version", info.torch_version},
      {"LibTorch library", info.libtorch_path},
      {"intra-op threads", Integer.to_string(info.threads)},
      {"OMP_WAIT_POLICY",
       System.get_env("OMP_WAIT_POLICY") ||
         "unset (LibTorch's OpenMP workers spin between operations; export OMP_WAIT_POLICY=passive)"},
      {"variant", variant},
      {"libtorch_cuda", if(info.cuda_library == :loaded, do: "loaded", else: info.cuda_library)},
      {"NVIDIA driver", if(info.cuda_driver, do: "present", else: "not found (libcuda.so)")},
      {"CUDA devices (driver)", Integer.to_string(length(devices))},
      {"CUDA devices (LibTorch)", Integer.to_string(info.cuda_device_count)}
    ]

    lines =
      lines ++
        for d <- devices do
          {"  cuda:#{d.index}",
           "#{d.name}, #{div(d.total_bytes, 1_048_576)} MiB (#{div(d.free_bytes, 1_048_576)} MiB free)"}
        end

    lines =
      if info.cuda_device_count == 0,
        do: lines ++ [{"CUDA unavailable because", info.cuda_reason}],
        else: lines

    width = lines |> Enum.map(&String.length(elem(&1, 0))) |> Enum.max()

    for {key, value} <- lines do
      Mix.shell().info(String.pad_trailing(key <> ":", width + 2) <> value)
    end

    :ok
  end
end
