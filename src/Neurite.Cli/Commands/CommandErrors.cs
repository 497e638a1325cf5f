namespace Neurite.Cli.Commands;

/// <summary>
/// A problem the user can fix (a bad option value, a file or column that is not there, data the recipe cannot use).
/// The message is one line naming the cause, the value received and the fix; the command ends with exit code 2.
/// </summary>
internal sealed class UserInputException(string message) : Exception(message);
