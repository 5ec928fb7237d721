// Command racy has a deliberate data race. The race test builds it with -race
// to prove that the check on the handler's output flags a race report.
package main

import "fmt"

func main() {
	x := 0
	done := make(chan bool)
	go func() {
		x = 1 // races with the write below: no happens-before between them
		done <- true
	}()
	x = 2
	<-done
	fmt.Println("racy ran", x)
}
