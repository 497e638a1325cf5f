return Neurite.Cli.CliApp.Run(args, Console.Out, Console.Error);
