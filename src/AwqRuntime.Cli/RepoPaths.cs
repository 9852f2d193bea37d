namespace AwqRuntime.Cli;

/// <summary>
/// Finds this repository's ../shared folder (models and data) when the CLI runs inside the repo's
/// tree, so defaults such as the calibration text and the demo model need no arguments there.
/// </summary>
internal static class RepoPaths
{
    public static string? SharedFolder()
    {
        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
            for (var dir = new DirectoryInfo(start); dir != null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "AwqRuntime.sln")))
                {
                    var shared = Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared"));
                    if (Directory.Exists(shared)) return shared;
                }
        return null;
    }

    public static string? Shared(params string[] parts)
    {
        var root = SharedFolder();
        if (root == null) return null;
        var path = Path.Combine([root, .. parts]);
        return File.Exists(path) || Directory.Exists(path) ? path : null;
    }

    public static string? DefaultCalibrationText => Shared("data", "tinystories_calib.txt");
}
