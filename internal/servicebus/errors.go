package servicebus

import "errors"

// errClosed is returned, wrapped, by [Sender.SendMessage] and
// [Sender.ScheduleMessage] once [Sender.Close] has been called.
var errClosed = errors.New("servicebus: sender is closed")
