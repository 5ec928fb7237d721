package servicebus

import "errors"

// ErrClosed is returned, wrapped, by [Sender.SendMessage] and
// [Sender.ScheduleMessage] once [Sender.Close] has been called.
var ErrClosed = errors.New("servicebus: sender is closed")
