"""Doer's demo: a program run inside the sandbox, showing what it can and cannot see."""
import os
import socket


def check(label, action):
    try:
        action()
        print(f"  {label:<34} allowed")
    except OSError as error:
        print(f"  {label:<34} refused ({error.strerror})")


print(f"Hello from the sandbox: uid {os.getuid()}, cwd {os.getcwd()}, pid {os.getpid()}")
print(f"  processes visible                  {len([p for p in os.listdir('/proc') if p.isdigit()])}")
check("read /etc/shadow", lambda: open("/etc/shadow").read())
check("write /usr/bin/evil", lambda: open("/usr/bin/evil", "w").write("x"))
check("open a TCP socket", lambda: socket.socket(socket.AF_INET, socket.SOCK_STREAM))
check("write the workspace (hello.txt)", lambda: open("hello.txt", "w").write("written in the sandbox\n"))
primes = [n for n in range(2, 60) if all(n % d for d in range(2, int(n ** 0.5) + 1))]
print(f"  primes below 60                    {primes}")
